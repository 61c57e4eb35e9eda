// The filter must import only what Envoy provides for ABI 0.2.0 (host contract §1.3/§1.4), or the
// VM never loads; and it must export the callbacks Envoy looks up.
import { describe, expect, it } from "vitest";
import { filterWasm } from "./filter-wasm.js";

/** `env` functions Envoy registers for a module exporting proxy_abi_version_0_2_0. */
const ENV_0_2_0 = new Set([
  "proxy_log",
  "proxy_get_current_time_nanoseconds",
  "proxy_set_tick_period_milliseconds",
  "proxy_get_property",
  "proxy_set_property",
  "proxy_get_buffer_bytes",
  "proxy_get_buffer_status",
  "proxy_set_buffer_bytes",
  "proxy_get_header_map_pairs",
  "proxy_set_header_map_pairs",
  "proxy_get_header_map_size",
  "proxy_get_header_map_value",
  "proxy_add_header_map_value",
  "proxy_replace_header_map_value",
  "proxy_remove_header_map_value",
  "proxy_continue_stream",
  "proxy_close_stream",
  "proxy_send_local_response",
  "proxy_http_call",
  "proxy_grpc_call",
  "proxy_grpc_stream",
  "proxy_grpc_send",
  "proxy_grpc_cancel",
  "proxy_grpc_close",
  "proxy_get_status",
  "proxy_set_shared_data",
  "proxy_get_shared_data",
  "proxy_register_shared_queue",
  "proxy_resolve_shared_queue",
  "proxy_enqueue_shared_queue",
  "proxy_dequeue_shared_queue",
  "proxy_define_metric",
  "proxy_increment_metric",
  "proxy_record_metric",
  "proxy_get_metric",
  "proxy_set_effective_context",
  "proxy_done",
  "proxy_call_foreign_function",
]);
/** WASI functions every Envoy build provides (contract §12: rely only on these). */
const WASI = new Set([
  "fd_write",
  "proc_exit",
  "clock_time_get",
  "random_get",
  "environ_get",
  "environ_sizes_get",
  "args_get",
  "args_sizes_get",
]);

describe("build/meshcanary.wasm imports and exports", () => {
  const module = new WebAssembly.Module(filterWasm());
  const imports = WebAssembly.Module.imports(module);

  it("imports only Envoy's ABI 0.2.0 functions and the portable WASI set", () => {
    const foreign = imports.filter(
      (i) =>
        i.kind !== "function" ||
        !(
          (i.module === "env" && ENV_0_2_0.has(i.name)) ||
          (i.module === "wasi_snapshot_preview1" && WASI.has(i.name))
        ),
    );
    expect(foreign).toEqual([]);
  });

  it("uses the functions the design requires and none of the known traps", () => {
    const names = imports.map((i) => `${i.module}.${i.name}`);
    for (const n of [
      "wasi_snapshot_preview1.random_get",
      "wasi_snapshot_preview1.clock_time_get",
      "wasi_snapshot_preview1.proc_exit",
      "env.proxy_log",
    ]) {
      expect(names).toContain(n);
    }
    for (const n of [
      "env.abort",
      "env.trace",
      "env.seed",
      "env.proxy_clear_route_cache",
      "env.proxy_get_log_level",
    ]) {
      expect(names).not.toContain(n);
    }
  });

  it("exports the ABI marker, malloc and the callbacks", () => {
    const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    for (const n of [
      "proxy_abi_version_0_2_0",
      "malloc",
      "memory",
      "proxy_on_context_create",
      "proxy_on_vm_start",
      "proxy_on_configure",
      "proxy_on_request_headers",
      "proxy_on_response_headers",
      "proxy_on_log",
      "proxy_on_delete",
      "proxy_on_tick",
      "proxy_on_grpc_receive",
      "proxy_on_grpc_close",
    ]) {
      expect(exports).toContain(n);
    }
    expect(exports.has("proxy_abi_version_0_1_0")).toBe(false);
    // Nothing to finish in on_done: without the export Envoy skips a call into the VM per request.
    expect(exports.has("proxy_on_done")).toBe(false);
  });
});
