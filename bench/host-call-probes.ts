/**
 * The probe modules of bench/envoy-host-calls.ts: meshcanary's exports, and in on_log one host
 * call repeated REPEATS times (the reference probe "none" makes no call). Values the host returns
 * land in a bump arena reset at every on_log, so a probe never grows.
 */
import { compileWat } from "./filter-cost.js";

/** Calls per request in each probe: enough that one call's cost stands out of the rounds' spread. */
export const REPEATS = 16;

/** Strings the probes pass, at fixed addresses: [address, bytes]. */
const DATA: Record<string, [number, string]> = {
  code: [16, "response\\00code"],
  duration: [32, "request\\00duration"],
  flags: [64, "response\\00flags"],
  size: [96, "response\\00size"],
  status: [128, ":status"],
  empty: [144, "probe.empty"],
  eight: [160, "probe.eight"],
  metric: [176, "probe_calls"],
  value: [192, "12345678"],
};
const len = (k: string) => DATA[k][1].replace(/\\00/g, "\0").length;
const at = (k: string) => `(i32.const ${DATA[k][0]}) (i32.const ${len(k)})`;
/** Out pointers: 256 value ptr, 260 value size, 264 cas / metric id, 272 u64 results. */
const OUT = "(i32.const 256) (i32.const 260)";

/** Each probe: what it measures, the host function it calls, and its one call (result dropped). */
export const PROBES: Record<string, { what: string; host: string; call: string }> = {
  none: { what: "reference: no call", host: "", call: "" },
  "property-response-code": {
    what: "proxy_get_property(response.code), value malloc'd",
    host: "proxy_get_property",
    call: `(call $get_property ${at("code")} ${OUT})`,
  },
  "property-request-duration": {
    what: "proxy_get_property(request.duration), value malloc'd",
    host: "proxy_get_property",
    call: `(call $get_property ${at("duration")} ${OUT})`,
  },
  "property-response-flags": {
    what: "proxy_get_property(response.flags), value malloc'd",
    host: "proxy_get_property",
    call: `(call $get_property ${at("flags")} ${OUT})`,
  },
  "property-response-size": {
    what: "proxy_get_property(response.size), value malloc'd",
    host: "proxy_get_property",
    call: `(call $get_property ${at("size")} ${OUT})`,
  },
  "header-status": {
    what: "proxy_get_header_map_value(response headers, :status), value malloc'd",
    host: "proxy_get_header_map_value",
    call: `(call $get_header (i32.const 2) ${at("status")} ${OUT})`,
  },
  "request-header-pairs": {
    what: "proxy_get_header_map_pairs(request headers), one malloc'd copy",
    host: "proxy_get_header_map_pairs",
    call: `(call $get_pairs (i32.const 0) ${OUT})`,
  },
  "clock-monotonic": {
    what: "WASI clock_time_get(monotonic), no malloc",
    host: "clock_time_get",
    call: "(call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 272))",
  },
  "clock-wall": {
    what: "proxy_get_current_time_nanoseconds, no malloc",
    host: "proxy_get_current_time_nanoseconds",
    call: "(call $current_time (i32.const 272))",
  },
  "shared-empty": {
    what: "proxy_get_shared_data of an empty value (cas only), no malloc",
    host: "proxy_get_shared_data",
    call: `(call $get_shared ${at("empty")} ${OUT} (i32.const 264))`,
  },
  "shared-8-bytes": {
    what: "proxy_get_shared_data of an 8-byte value, malloc'd (minus shared-empty = one malloc)",
    host: "proxy_get_shared_data",
    call: `(call $get_shared ${at("eight")} ${OUT} (i32.const 264))`,
  },
  "increment-metric": {
    what: "proxy_increment_metric of a counter",
    host: "proxy_increment_metric",
    call: "(call $increment (i32.load (i32.const 268)) (i64.const 1))",
  },
};

/** The probe's module text. */
export function probeWat(name: string): string {
  const probe = PROBES[name];
  if (!probe) throw new Error(`unknown host-call probe ${name}`);
  const calls = probe.call ? Array(REPEATS).fill(`    (drop ${probe.call})`).join("\n") : "";
  const data = Object.values(DATA)
    .map(([addr, s]) => `  (data (i32.const ${addr}) "${s}")`)
    .join("\n");
  return `(module
  (import "env" "proxy_get_property" (func $get_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_pairs" (func $get_pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_shared_data" (func $get_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_current_time_nanoseconds" (func $current_time (param i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define_metric (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $increment (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 2)
${data}
  (global $arena (mut i32) (i32.const 65536))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $arena))
    (global.set $arena (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $set_shared ${at("empty")} (i32.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $set_shared ${at("eight")} ${at("value")} (i32.const 0)))
    (drop (call $define_metric (i32.const 0) ${at("metric")} (i32.const 268)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_log") (param i32)
    (global.set $arena (i32.const 65536))
${calls})
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32))
  (func (export "proxy_on_tick") (param i32))
)
`;
}

/** Compiles a probe with the wabt package. */
export function probeModule(name: string): Promise<Uint8Array> {
  return compileWat(`probe-${name}.wat`, probeWat(name));
}
