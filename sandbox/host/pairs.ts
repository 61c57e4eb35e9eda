// The proxy-wasm pair list format (host contract §3.1):
// u32 N, N×(u32 key_len, u32 value_len), N×(key \0 value \0), all little-endian.

/** An ordered list of header (or metadata) entries. */
export type Headers = Array<[string, string]>;

/** Pair lists above these limits are treated as empty (cpp-host limits.h). */
export const MAX_PAIRS = 1024;
export const MAX_PAIRS_BYTES = 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Serialises pairs of raw byte strings. */
export function encodePairBytes(pairs: Array<[Uint8Array, Uint8Array]>): Uint8Array {
  if (pairs.length === 0) return new Uint8Array(0);
  let size = 4;
  for (const [k, v] of pairs) size += 8 + k.length + 1 + v.length + 1;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, pairs.length, true);
  let lenAt = 4;
  let dataAt = 4 + 8 * pairs.length;
  for (const [k, v] of pairs) {
    dv.setUint32(lenAt, k.length, true);
    dv.setUint32(lenAt + 4, v.length, true);
    lenAt += 8;
    out.set(k, dataAt);
    dataAt += k.length + 1;
    out.set(v, dataAt);
    dataAt += v.length + 1;
  }
  return out;
}

/** Serialises string pairs as UTF-8. */
export function encodePairs(pairs: Headers): Uint8Array {
  return encodePairBytes(pairs.map(([k, v]) => [encoder.encode(k), encoder.encode(v)]));
}

/** Strict parse of raw pairs; malformed, >1024 pairs or >1 MiB → empty (never an error). */
export function decodePairBytes(buf: Uint8Array): Array<[Uint8Array, Uint8Array]> {
  if (buf.length < 4 || buf.length > MAX_PAIRS_BYTES) return [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getUint32(0, true);
  if (n > MAX_PAIRS || 4 + 8 * n > buf.length) return [];
  const out: Array<[Uint8Array, Uint8Array]> = [];
  let at = 4 + 8 * n;
  for (let i = 0; i < n; i++) {
    const klen = dv.getUint32(4 + 8 * i, true);
    const vlen = dv.getUint32(8 + 8 * i, true);
    if (at + klen + 1 + vlen + 1 > buf.length) return [];
    if (buf[at + klen] !== 0 || buf[at + klen + 1 + vlen] !== 0) return [];
    out.push([buf.subarray(at, at + klen), buf.subarray(at + klen + 1, at + klen + 1 + vlen)]);
    at += klen + 1 + vlen + 1;
  }
  return at === buf.length ? out : [];
}

/** Strict parse into UTF-8 strings. */
export function decodePairs(buf: Uint8Array): Headers {
  return decodePairBytes(buf).map(([k, v]) => [decoder.decode(k), decoder.decode(v)]);
}
