// HMAC-SHA256 (RFC 2104 with SHA-256, test cases in RFC 4231). Pure AssemblyScript.

import { SHA256_BLOCK, Sha256, sha256 } from "./sha256";

/** HMAC-SHA256 of `message` under `key` (keys longer than a block are hashed first). */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  const k = key.length > SHA256_BLOCK ? sha256(key) : key;
  const ipad = new Uint8Array(SHA256_BLOCK);
  const opad = new Uint8Array(SHA256_BLOCK);
  for (let i = 0; i < SHA256_BLOCK; i++) {
    const b: u8 = i < k.length ? k[i] : 0;
    ipad[i] = b ^ 0x36;
    opad[i] = b ^ 0x5c;
  }
  const inner = new Sha256();
  inner.update(ipad);
  inner.update(message);
  const outer = new Sha256();
  outer.update(opad);
  outer.update(inner.digest());
  return outer.digest();
}
