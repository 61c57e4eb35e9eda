// SHA-256 (FIPS 180-4) in pure AssemblyScript: the filter may import nothing Envoy does not
// provide, and the only AssemblyScript package on npm (@chainsafe/as-sha256) ships compiled wasm,
// not sources a module can link in.

/** Digest size in bytes. */
export const SHA256_BYTES: i32 = 32;
/** Block size in bytes (HMAC pads keys to it). */
export const SHA256_BLOCK: i32 = 64;

// FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];

// FIPS 180-4 §5.3.3: the initial hash value.
const IV: StaticArray<u32> = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/** Incremental SHA-256: `update` any number of times, then `digest` once. */
export class Sha256 {
  private h: StaticArray<u32> = new StaticArray<u32>(8);
  private w: StaticArray<u32> = new StaticArray<u32>(64);
  /** Bytes waiting for a whole block. */
  private pending: StaticArray<u8> = new StaticArray<u8>(SHA256_BLOCK);
  private pendingLen: i32 = 0;
  private totalBytes: u64 = 0;

  constructor() {
    for (let i = 0; i < 8; i++) unchecked((this.h[i] = IV[i]));
  }

  /** Feeds `data` into the hash. */
  update(data: Uint8Array): void {
    this.updateRaw(data.dataStart, data.length);
  }

  /** Feeds `len` bytes at `ptr` into the hash. */
  updateRaw(ptr: usize, len: i32): void {
    this.totalBytes += <u64>len;
    const buf = changetype<usize>(this.pending);
    let i = 0;
    if (this.pendingLen > 0) {
      const take = min(SHA256_BLOCK - this.pendingLen, len);
      memory.copy(buf + <usize>this.pendingLen, ptr, <usize>take);
      this.pendingLen += take;
      i = take;
      if (this.pendingLen < SHA256_BLOCK) return;
      compress(this.h, this.w, buf);
      this.pendingLen = 0;
    }
    for (; i + SHA256_BLOCK <= len; i += SHA256_BLOCK) compress(this.h, this.w, ptr + <usize>i);
    if (i < len) {
      memory.copy(buf, ptr + <usize>i, <usize>(len - i));
      this.pendingLen = len - i;
    }
  }

  /** Pads (FIPS 180-4 §5.1.1) and returns the 32-byte digest. The object is spent afterwards. */
  digest(): Uint8Array {
    const buf = changetype<usize>(this.pending);
    const bits = this.totalBytes << 3;
    store<u8>(buf + <usize>this.pendingLen, 0x80);
    let used = this.pendingLen + 1;
    if (used > SHA256_BLOCK - 8) {
      memory.fill(buf + <usize>used, 0, <usize>(SHA256_BLOCK - used));
      compress(this.h, this.w, buf);
      used = 0;
    }
    memory.fill(buf + <usize>used, 0, <usize>(SHA256_BLOCK - 8 - used));
    store<u64>(buf + <usize>(SHA256_BLOCK - 8), bswap<u64>(bits));
    compress(this.h, this.w, buf);
    const out = new Uint8Array(SHA256_BYTES);
    for (let i = 0; i < 8; i++) store<u32>(out.dataStart + <usize>(i << 2), bswap<u32>(unchecked(this.h[i])));
    return out;
  }
}

/** The SHA-256 digest of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  const s = new Sha256();
  s.update(data);
  return s.digest();
}

/** One 64-byte block at `p` into the state `h` (FIPS 180-4 §6.2.2); `w` is scratch. */
function compress(h: StaticArray<u32>, w: StaticArray<u32>, p: usize): void {
  for (let t = 0; t < 16; t++) unchecked((w[t] = bswap<u32>(load<u32>(p + <usize>(t << 2)))));
  for (let t = 16; t < 64; t++) {
    const w15 = unchecked(w[t - 15]);
    const w2 = unchecked(w[t - 2]);
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    unchecked((w[t] = w[t - 16] + s0 + w[t - 7] + s1));
  }
  let a = unchecked(h[0]);
  let b = unchecked(h[1]);
  let c = unchecked(h[2]);
  let d = unchecked(h[3]);
  let e = unchecked(h[4]);
  let f = unchecked(h[5]);
  let g = unchecked(h[6]);
  let hh = unchecked(h[7]);
  for (let t = 0; t < 64; t++) {
    const s1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = hh + s1 + ch + unchecked(K[t]) + unchecked(w[t]);
    const s0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + s0 + maj;
  }
  unchecked((h[0] += a));
  unchecked((h[1] += b));
  unchecked((h[2] += c));
  unchecked((h[3] += d));
  unchecked((h[4] += e));
  unchecked((h[5] += f));
  unchecked((h[6] += g));
  unchecked((h[7] += hh));
}
