// Small wrappers over host calls shared by the request path and the reporter: logging, clock,
// randomness, shared data, properties, header values and environment variables. Every host result
// is returned or mapped to a fallback; nothing here traps.

import {
  clock_time_get,
  environ_get,
  environ_sizes_get,
  proxy_get_current_time_nanoseconds,
  proxy_get_header_map_value,
  proxy_get_property,
  proxy_get_shared_data,
  proxy_log,
  proxy_set_shared_data,
  random_get,
} from "./abi/imports";
import { OUT_ID, OUT_PTR, OUT_SIZE, release, resetOut, takeI64, takeString } from "./abi/memory";

/** proxy-wasm results used by callers (contract §1.2). */
export const OK: i32 = 0;
export const NOT_FOUND: i32 = 1;
export const CAS_MISMATCH: i32 = 8;

export const LOG_DEBUG: i32 = 1;
export const LOG_INFO: i32 = 2;
export const LOG_WARN: i32 = 3;
export const LOG_ERROR: i32 = 4;

/** Logs a message (UTF-8). */
export function log(level: i32, message: string): void {
  const b = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(b), <usize>b.byteLength);
}

/** Wall clock in Unix milliseconds (0 if the host refuses). */
export function nowMs(): i64 {
  store<u64>(OUT_PTR, 0);
  if (proxy_get_current_time_nanoseconds(OUT_PTR) != OK) return 0;
  return <i64>(load<u64>(OUT_PTR) / 1000000);
}

const MONOTONIC: u32 = 1;

/**
 * Envoy's monotonic clock in nanoseconds (WASI; -1 if the host refuses). Cheaper than any property:
 * the host writes 8 bytes into OUT_PTR, where a property's value costs a call into the VM's malloc.
 */
export function monotonicNs(): i64 {
  store<u64>(OUT_PTR, 0);
  if (clock_time_get(MONOTONIC, 0, OUT_PTR) != 0) return -1;
  return <i64>load<u64>(OUT_PTR);
}

const RANDOM_SIZE: i32 = 256;
const randomPool = new StaticArray<u8>(RANDOM_SIZE);
let randomPos: i32 = RANDOM_SIZE;
let randomCounter: u32 = 0;

/** 32 random bits from the buffered WASI pool; a counter-based fallback if random_get fails. */
export function randomU32(): u32 {
  if (randomPos + 4 > RANDOM_SIZE) {
    const errno = random_get(changetype<usize>(randomPool), <usize>RANDOM_SIZE);
    if (errno != 0) {
      // Never trap on traffic: degrade to a Weyl sequence (still spreads evenly over buckets).
      randomCounter += 0x9e3779b9;
      return randomCounter;
    }
    randomPos = 0;
  }
  const v = load<u32>(changetype<usize>(randomPool) + <usize>randomPos);
  randomPos += 4;
  return v;
}

/** `words` × 32 random bits as lower-case hex. */
export function randomHex(words: i32): string {
  let s = "";
  for (let i = 0; i < words; i++) s += randomU32().toString(16).padStart(8, "0");
  return s;
}

/** A shared-data read: result code, value (empty unless Ok) and cas (0 unless Ok). */
export class SharedValue {
  result: i32 = NOT_FOUND;
  value: ArrayBuffer = new ArrayBuffer(0);
  cas: u32 = 0;
}

/** Reads a shared-data key. */
export function getShared(key: string): SharedValue {
  const k = String.UTF8.encode(key);
  const out = new SharedValue();
  resetOut();
  store<u32>(OUT_ID, 0);
  out.result = proxy_get_shared_data(changetype<usize>(k), <usize>k.byteLength, OUT_PTR, OUT_SIZE, OUT_ID);
  const ptr = load<u32>(OUT_PTR);
  if (out.result == OK) {
    const size = load<u32>(OUT_SIZE);
    const v = new ArrayBuffer(<i32>size);
    if (ptr != 0 && size > 0) memory.copy(changetype<usize>(v), ptr, size);
    out.value = v;
    out.cas = load<u32>(OUT_ID);
  }
  release(ptr);
  return out;
}

/** The cas of a shared-data key (UTF-8), its value dropped unread; -1 unless the read is Ok. */
export function sharedCas(key: ArrayBuffer): i64 {
  resetOut();
  store<u32>(OUT_ID, 0);
  const r = proxy_get_shared_data(changetype<usize>(key), <usize>key.byteLength, OUT_PTR, OUT_SIZE, OUT_ID);
  release(load<u32>(OUT_PTR));
  return r == OK ? <i64>load<u32>(OUT_ID) : -1;
}

/** Writes a shared-data key with `cas` (0 = unconditional); returns the host result. */
export function setShared(key: string, value: ArrayBuffer, cas: u32): i32 {
  const k = String.UTF8.encode(key);
  return proxy_set_shared_data(
    changetype<usize>(k),
    <usize>k.byteLength,
    changetype<usize>(value),
    <usize>value.byteLength,
    cas,
  );
}

/** A string property (e.g. `xds\0node\0metadata\0NAME`), or "" when unavailable. */
export function getStringProperty(path: string): string {
  const p = String.UTF8.encode(path);
  resetOut();
  if (proxy_get_property(changetype<usize>(p), <usize>p.byteLength, OUT_PTR, OUT_SIZE) != OK) {
    release(load<u32>(OUT_PTR));
    return "";
  }
  return takeString();
}

/** An integer property (8-byte LE, e.g. `response\0code`), or `fallback` when NotFound/other. */
export function getIntProperty(path: ArrayBuffer, fallback: i64): i64 {
  resetOut();
  const r = proxy_get_property(changetype<usize>(path), <usize>path.byteLength, OUT_PTR, OUT_SIZE);
  if (r != OK) return fallback;
  return takeI64(fallback);
}

/** First value of a header in map `map`, or null (absent, unavailable, or any other result). */
export function getHeader(map: i32, key: ArrayBuffer): string | null {
  resetOut();
  const r = proxy_get_header_map_value(map, changetype<usize>(key), <usize>key.byteLength, OUT_PTR, OUT_SIZE);
  if (r == OK) return takeString();
  release(load<u32>(OUT_PTR));
  return null;
}

/** The value of environment variable `name` (WASI environ, Envoy's vm_config env), or null. */
export function envVar(name: string): string | null {
  resetOut();
  if (environ_sizes_get(OUT_PTR, OUT_SIZE) != 0) return null;
  const count = load<u32>(OUT_PTR);
  const size = load<u32>(OUT_SIZE);
  if (count == 0 || count > 4096 || size > 1048576) return null;
  const pointers = heap.alloc(<usize>count * 4);
  const buffer = heap.alloc(size > 0 ? <usize>size : 1);
  let found: string | null = null;
  if (environ_get(pointers, buffer) == 0) {
    const prefix = name + "=";
    const end = buffer + <usize>size;
    for (let i: u32 = 0; i < count && found == null; i++) {
      const at = <usize>load<u32>(pointers + 4 * <usize>i);
      if (at < buffer || at >= end) continue;
      let stop = at;
      while (stop < end && load<u8>(stop) != 0) stop++;
      const entry = String.UTF8.decodeUnsafe(at, stop - at);
      if (entry.startsWith(prefix)) found = entry.substring(prefix.length);
    }
  }
  heap.free(pointers);
  heap.free(buffer);
  return found;
}
