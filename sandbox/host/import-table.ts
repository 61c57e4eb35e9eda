// The functions Envoy registers for a proxy-wasm module, with exact signatures
// (host contract §1.1, §1.3, §1.4). Anything not listed here fails the load.
import type { AbiVersion } from "./abi.js";
import type { FuncType, ValType } from "./wasm-binary.js";

function sig(params: string, results = "i32"): FuncType {
  const list = (s: string): ValType[] => (s ? (s.split(" ") as ValType[]) : []);
  return { params: list(params), results: list(results) };
}
const i32x = (n: number): string => Array(n).fill("i32").join(" ");

/** `env` functions registered for every 0.2.x module. */
const ENV_COMMON: Record<string, FuncType> = {
  proxy_log: sig(i32x(3)),
  proxy_get_current_time_nanoseconds: sig(i32x(1)),
  proxy_set_tick_period_milliseconds: sig(i32x(1)),
  proxy_get_property: sig(i32x(4)),
  proxy_set_property: sig(i32x(4)),
  proxy_get_buffer_bytes: sig(i32x(5)),
  proxy_get_buffer_status: sig(i32x(3)),
  proxy_set_buffer_bytes: sig(i32x(5)),
  proxy_get_header_map_pairs: sig(i32x(3)),
  proxy_set_header_map_pairs: sig(i32x(3)),
  proxy_get_header_map_size: sig(i32x(2)),
  proxy_get_header_map_value: sig(i32x(5)),
  proxy_add_header_map_value: sig(i32x(5)),
  proxy_replace_header_map_value: sig(i32x(5)),
  proxy_remove_header_map_value: sig(i32x(3)),
  proxy_send_local_response: sig(i32x(8)),
  proxy_http_call: sig(i32x(10)),
  proxy_grpc_call: sig(i32x(12)),
  proxy_grpc_stream: sig(i32x(9)),
  proxy_grpc_send: sig(i32x(4)),
  proxy_grpc_cancel: sig(i32x(1)),
  proxy_grpc_close: sig(i32x(1)),
  proxy_get_status: sig(i32x(3)),
  proxy_set_shared_data: sig(i32x(5)),
  proxy_get_shared_data: sig(i32x(5)),
  proxy_register_shared_queue: sig(i32x(3)),
  proxy_resolve_shared_queue: sig(i32x(5)),
  proxy_enqueue_shared_queue: sig(i32x(3)),
  proxy_dequeue_shared_queue: sig(i32x(3)),
  proxy_define_metric: sig(i32x(4)),
  proxy_increment_metric: sig("i32 i64"),
  proxy_record_metric: sig("i32 i64"),
  proxy_get_metric: sig(i32x(2)),
  proxy_set_effective_context: sig(i32x(1)),
  proxy_done: sig(""),
  proxy_call_foreign_function: sig(i32x(6)),
  proxy_continue_stream: sig(i32x(1)),
  proxy_close_stream: sig(i32x(1)),
  pthread_equal: sig(i32x(2)),
  emscripten_notify_memory_growth: sig("i32", ""),
  envoy_resolve_dns: sig(i32x(3)),
};

/** WASI functions present in every Envoy build plus the Dec-2024 cpp-host additions. */
const WASI: Record<string, FuncType> = {
  fd_write: sig(i32x(4)),
  fd_read: sig(i32x(4)),
  fd_seek: sig("i32 i64 i32 i32"),
  fd_close: sig(i32x(1)),
  fd_fdstat_get: sig(i32x(2)),
  environ_get: sig(i32x(2)),
  environ_sizes_get: sig(i32x(2)),
  args_get: sig(i32x(2)),
  args_sizes_get: sig(i32x(2)),
  clock_time_get: sig("i32 i64 i32"),
  random_get: sig(i32x(2)),
  proc_exit: sig("i32", ""),
  path_open: sig("i32 i32 i32 i32 i32 i64 i64 i32 i32"),
  fd_prestat_get: sig(i32x(2)),
  fd_prestat_dir_name: sig(i32x(3)),
  sched_yield: sig(""),
  poll_oneoff: sig(i32x(4)),
  fd_fdstat_set_flags: sig(i32x(2)),
};

/** Both WASI module names Envoy registers, with the same implementation. */
export const WASI_MODULES = ["wasi_snapshot_preview1", "wasi_unstable"] as const;

/** Expected signature of an import, or undefined when Envoy does not provide it for this ABI. */
export function expectedImport(abi: AbiVersion, module: string, name: string): FuncType | undefined {
  if (module === "env") {
    if (name === "proxy_get_log_level") return abi === "0.2.1" ? sig(i32x(1)) : undefined;
    return Object.hasOwn(ENV_COMMON, name) ? ENV_COMMON[name] : undefined;
  }
  if ((WASI_MODULES as readonly string[]).includes(module)) {
    return Object.hasOwn(WASI, name) ? WASI[name] : undefined;
  }
  return undefined;
}

/** Guest exports Envoy looks up, with the signature it requires (contract §1.5). */
export const EXPORT_SIGNATURES: Record<string, FuncType> = {
  _initialize: sig("", ""),
  _start: sig("", ""),
  main: sig("i32 i32"),
  __main_void: sig(""),
  malloc: sig("i32"),
  proxy_on_memory_allocate: sig("i32"),
  proxy_on_context_create: sig("i32 i32", ""),
  proxy_on_vm_start: sig("i32 i32"),
  proxy_on_configure: sig("i32 i32"),
  proxy_validate_configuration: sig("i32 i32"),
  proxy_on_tick: sig("i32", ""),
  proxy_on_request_headers: sig(i32x(3)),
  proxy_on_response_headers: sig(i32x(3)),
  proxy_on_request_body: sig(i32x(3)),
  proxy_on_response_body: sig(i32x(3)),
  proxy_on_request_trailers: sig(i32x(2)),
  proxy_on_response_trailers: sig(i32x(2)),
  proxy_on_request_metadata: sig(i32x(2)),
  proxy_on_response_metadata: sig(i32x(2)),
  proxy_on_http_call_response: sig(i32x(5), ""),
  proxy_on_grpc_receive_initial_metadata: sig(i32x(3), ""),
  proxy_on_grpc_receive: sig(i32x(3), ""),
  proxy_on_grpc_receive_trailing_metadata: sig(i32x(3), ""),
  proxy_on_grpc_close: sig(i32x(3), ""),
  proxy_on_queue_ready: sig(i32x(2), ""),
  proxy_on_foreign_function: sig(i32x(3), ""),
  proxy_on_done: sig("i32"),
  proxy_on_log: sig("i32", ""),
  proxy_on_delete: sig("i32", ""),
};
