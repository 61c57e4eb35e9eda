// The proxy-wasm pair-list serialization (host contract §3.1) for gRPC initial metadata:
// u32 N, N × (u32 key_len, u32 value_len), then each key and value followed by \0. Pure.

/** Serializes parallel key/value lists (UTF-8) into the proxy-wasm pair format. */
export function encodePairs(keys: Array<string>, values: Array<string>): ArrayBuffer {
  const n = min(keys.length, values.length);
  const k = new Array<ArrayBuffer>(n);
  const v = new Array<ArrayBuffer>(n);
  let size = 4 + 8 * n;
  for (let i = 0; i < n; i++) {
    k[i] = String.UTF8.encode(keys[i]);
    v[i] = String.UTF8.encode(values[i]);
    size += k[i].byteLength + 1 + v[i].byteLength + 1;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, <u32>n);
  let at = base + 4 + 8 * <usize>n;
  for (let i = 0; i < n; i++) {
    store<u32>(base + 4 + 8 * <usize>i, <u32>k[i].byteLength);
    store<u32>(base + 8 + 8 * <usize>i, <u32>v[i].byteLength);
    memory.copy(at, changetype<usize>(k[i]), <usize>k[i].byteLength);
    at += <usize>k[i].byteLength;
    store<u8>(at, 0);
    at++;
    memory.copy(at, changetype<usize>(v[i]), <usize>v[i].byteLength);
    at += <usize>v[i].byteLength;
    store<u8>(at, 0);
    at++;
  }
  return out;
}
