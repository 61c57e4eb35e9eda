// A request's headers as one proxy_get_header_map_pairs copy (host contract §3.1): the request path
// looks up `:authority`, the variant, pin, cookie and sticky headers in it, so routing a request
// crosses into the host once (plus one malloc) instead of once per header. Every host call costs a
// V8 <-> C++ transition in Envoy, which dominated the filter's CPU per request.

import { proxy_get_header_map_pairs } from "./abi/imports";
import { OUT_PTR, OUT_SIZE, release, resetOut } from "./abi/memory";

const OK: i32 = 0;

/** A host-returned pair list (`u32 N, N × (u32 key_len, u32 value_len), key\0 value\0 …`) and the last lookup. */
export class HeaderPairs {
  private ptr: usize = 0;
  private count: u32 = 0;
  /** Where the last successful `find` put the value (inside the host's buffer, valid until `release`). */
  valuePtr: usize = 0;
  valueSize: usize = 0;

  /**
   * Copies header map `map` from the host. False when the host refuses or returns a malformed list
   * (then nothing is held); an empty map is a valid, empty list.
   */
  read(map: i32): bool {
    this.release();
    resetOut();
    const r = proxy_get_header_map_pairs(map, OUT_PTR, OUT_SIZE);
    const ptr = <usize>load<u32>(OUT_PTR);
    const size = <usize>load<u32>(OUT_SIZE);
    if (r != OK || !wellFormed(ptr, size)) {
      release(ptr);
      return false;
    }
    this.ptr = ptr;
    this.count = size >= 4 ? load<u32>(ptr) : 0;
    return true;
  }

  /** Finds the first value of `key` (lower-case UTF-8, as Envoy stores keys) into valuePtr/valueSize. */
  find(key: ArrayBuffer): bool {
    const keySize = <usize>key.byteLength;
    const sizes = this.ptr + 4;
    let at = sizes + 8 * <usize>this.count;
    for (let i: usize = 0; i < <usize>this.count; i++) {
      const k = <usize>load<u32>(sizes + 8 * i);
      const v = <usize>load<u32>(sizes + 8 * i + 4);
      if (k == keySize && memory.compare(at, changetype<usize>(key), keySize) == 0) {
        this.valuePtr = at + k + 1;
        this.valueSize = v;
        return true;
      }
      at += k + 1 + v + 1;
    }
    return false;
  }

  /** The first value of `key` as a string, or null when absent. */
  get(key: ArrayBuffer): string | null {
    if (!this.find(key)) return null;
    return this.valueSize > 0 ? String.UTF8.decodeUnsafe(this.valuePtr, this.valueSize) : "";
  }

  /** Frees the host's buffer; every value pointer into it is then invalid. */
  release(): void {
    release(this.ptr);
    this.ptr = 0;
    this.count = 0;
  }
}

/** Whether `size` bytes at `ptr` hold a complete pair list (each key and value followed by \0). */
function wellFormed(ptr: usize, size: usize): bool {
  if (size == 0) return true;
  if (ptr == 0 || size < 4) return false;
  const count = <u64>load<u32>(ptr);
  let need: u64 = 4 + 8 * count;
  if (need > <u64>size) return false;
  for (let i: usize = 0; i < <usize>count; i++) {
    need += <u64>load<u32>(ptr + 4 + 8 * i) + <u64>load<u32>(ptr + 8 + 8 * i) + 2;
    if (need > <u64>size) return false;
  }
  return true;
}
