// Host functions the filter uses, with Envoy's exact signatures (host contract §1.3/§1.4).
// Only what is declared here and actually called ends up in the module's import list; a test
// checks that list against Envoy's ABI 0.2.0 set. Nothing else may be imported.

// ---- env (proxy-wasm ABI 0.2.0) ----

/** Logs `msg` at `level` (0 trace .. 5 critical). */
@external("env", "proxy_log")
export declare function proxy_log(level: i32, msgPtr: usize, msgSize: usize): i32;

/** Copies part of a buffer (7 = plugin configuration) into guest memory allocated with malloc. */
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(type: i32, start: u32, maxSize: u32, outPtr: usize, outSize: usize): i32;

/** First value of a header (0 = request headers, 2 = response headers); NotFound when absent. */
@external("env", "proxy_get_header_map_value")
export declare function proxy_get_header_map_value(
  type: i32,
  keyPtr: usize,
  keySize: usize,
  outPtr: usize,
  outSize: usize,
): i32;

/** Every pair of a header map in one copy (pair-list format, contract §3.1); empty map: ptr 0, size 0. */
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(type: i32, outPtr: usize, outSize: usize): i32;

/** Replaces the first occurrence of a header or adds it. */
@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(
  type: i32,
  keyPtr: usize,
  keySize: usize,
  valuePtr: usize,
  valueSize: usize,
): i32;

/** Removes every occurrence of a header (Ok when absent). */
@external("env", "proxy_remove_header_map_value")
export declare function proxy_remove_header_map_value(type: i32, keyPtr: usize, keySize: usize): i32;

/** Reads a property; the path is `\0`-separated segments. */
@external("env", "proxy_get_property")
export declare function proxy_get_property(pathPtr: usize, pathSize: usize, outPtr: usize, outSize: usize): i32;

/** Defines (or finds) a metric by name; writes its id. */
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(type: i32, namePtr: usize, nameSize: usize, outId: usize): i32;

/** Adds `delta` (> 0 for counters) to a metric. */
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(id: u32, delta: i64): i32;

/** Writes a shared-data value (cas 0 = unconditional). */
@external("env", "proxy_set_shared_data")
export declare function proxy_set_shared_data(
  keyPtr: usize,
  keySize: usize,
  valuePtr: usize,
  valueSize: usize,
  cas: u32,
): i32;

/** Reads a shared-data value (malloc'd copy) and its cas; NotFound when the key is absent. */
@external("env", "proxy_get_shared_data")
export declare function proxy_get_shared_data(
  keyPtr: usize,
  keySize: usize,
  outPtr: usize,
  outSize: usize,
  outCas: usize,
): i32;

/** Wall-clock time in nanoseconds (u64 written to `out`). */
@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(out: usize): i32;

/** Opens a gRPC stream owned by the root context; `service` is a serialized GrpcService or a cluster name. */
@external("env", "proxy_grpc_stream")
export declare function proxy_grpc_stream(
  servicePtr: usize,
  serviceSize: usize,
  serviceNamePtr: usize,
  serviceNameSize: usize,
  methodPtr: usize,
  methodSize: usize,
  metadataPtr: usize,
  metadataSize: usize,
  outToken: usize,
): i32;

/** Sends one message on a stream (end_stream 1 half-closes). */
@external("env", "proxy_grpc_send")
export declare function proxy_grpc_send(token: u32, msgPtr: usize, msgSize: usize, endStream: u32): i32;

/** Resets a stream; no callbacks follow. */
@external("env", "proxy_grpc_cancel")
export declare function proxy_grpc_cancel(token: u32): i32;

/** Arms (or with 0 cancels) the root context's tick timer. */
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(periodMs: u32): i32;

// ---- WASI ----

/** Clock `id` (0 realtime, 1 monotonic) in nanoseconds at `out` (u64); returns a WASI errno. */
@external("wasi_snapshot_preview1", "clock_time_get")
export declare function clock_time_get(id: u32, precision: u64, out: usize): i32;

/** Fills `len` bytes (≤ 65536) with random data; returns a WASI errno. */
@external("wasi_snapshot_preview1", "random_get")
export declare function random_get(buf: usize, len: usize): i32;

/** Number of environment variables and the byte size of their `KEY=VALUE\0` strings. */
@external("wasi_snapshot_preview1", "environ_sizes_get")
export declare function environ_sizes_get(countOut: usize, sizeOut: usize): i32;

/** Writes the environment pointers and the `KEY=VALUE\0` strings. */
@external("wasi_snapshot_preview1", "environ_get")
export declare function environ_get(pointersOut: usize, bufferOut: usize): i32;

/** Envoy only logs this and returns (contract §11.2): callers must trap afterwards. */
@external("wasi_snapshot_preview1", "proc_exit")
export declare function proc_exit(code: i32): void;
