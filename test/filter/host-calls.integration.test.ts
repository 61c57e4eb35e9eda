// The host calls the real build/meshcanary.wasm makes per request, counted in our host. In Envoy
// every one crosses between V8 and C++ (and each value the host returns adds a call into the VM's
// malloc); they were most of the filter's CPU per request (bench/envoy-overhead.ts). These budgets
// keep the request path at one header copy, one shared-data check, one clock read and one header
// write, and on_log at two properties, one clock read and one counter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BENCH_ROUTE, bareModule } from "../../bench/filter-cost.js";
import { type Headers, loadHost, type ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterWasm } from "./filter-wasm.js";

const HOST = BENCH_ROUTE.host;
/** The benchmark's route: 90/10, sticky on x-user-id. */
const CONFIG = JSON.stringify({ routes: [BENCH_ROUTE] });

let host: ProxyWasmHost;
/** bench/fixtures/bare.wat, the benchmarks' "same host calls without the logic" contrast. */
let bare: ProxyWasmHost;
let bareBytes: Uint8Array<ArrayBuffer>;
let counting = false;
const calls = new Map<string, number>();

/** The host calls (and mallocs) of one whole request through `on` (the filter by default), by name. */
function callsOf(headers: Headers, on: ProxyWasmHost = host): Record<string, number> {
  calls.clear();
  counting = true;
  on.request({ request: { headers }, response: { status: 200, bodyBytes: 10 }, durationNs: 1_000_000 });
  counting = false;
  return Object.fromEntries([...calls].sort(([a], [b]) => a.localeCompare(b)));
}

function load(module: Uint8Array, pluginConfig: string): Promise<ProxyWasmHost> {
  return loadHost({
    module,
    workers: 1,
    pluginConfig,
    timers: "manual",
    onHostCall: (name) => {
      if (counting) calls.set(name, (calls.get(name) ?? 0) + 1);
    },
  });
}

beforeAll(async () => {
  host = await load(filterWasm(), CONFIG);
  bareBytes = new Uint8Array(await bareModule());
  bare = await load(bareBytes, "");
});
afterAll(async () => {
  await host.close();
  await bare.close();
});

/**
 * on_log: response.code and response.flags (each a malloc'd value), the clock for the latency, one
 * counter. The body size is counted in on_response_body; the latency is two monotonic clock reads
 * (no malloc), not request.duration.
 */
const ON_LOG = { proxy_get_property: 2, clock_time_get: 1, proxy_increment_metric: 1 };

/** The callbacks Envoy would call per request that a module exports. */
function perRequestExports(module: Uint8Array<ArrayBuffer>): string[] {
  const names = WebAssembly.Module.exports(new WebAssembly.Module(module)).map((e) => e.name);
  return names.filter((n) => /^proxy_on_(context_create|request_|response_|log|done|delete)/.test(n)).sort();
}

describe("host calls per request", () => {
  it("a routed sticky request: one header copy, one shared-data check, a clock read, one header write, then on_log", () => {
    expect(
      callsOf([
        [":authority", `${HOST}:9080`],
        [":path", "/"],
        ["x-user-id", "user-7"],
      ]),
    ).toEqual({
      clock_time_get: 1 + ON_LOG.clock_time_get,
      malloc: 1 + ON_LOG.proxy_get_property,
      proxy_get_header_map_pairs: 1,
      proxy_get_property: ON_LOG.proxy_get_property,
      proxy_get_shared_data: 1,
      proxy_increment_metric: ON_LOG.proxy_increment_metric,
      proxy_replace_header_map_value: 1,
    });
  });

  it("bench/fixtures/bare.wat makes the same host calls on the sticky path", () => {
    const sticky: Headers = [
      [":authority", `${HOST}:9080`],
      [":path", "/"],
      ["x-user-id", "user-7"],
    ];
    const { random_get: _refill, ...bareCalls } = callsOf(sticky, bare);
    // bare refills its random pool on its first request (meshcanary's sticky path never draws).
    expect(bareCalls).toEqual(callsOf(sticky));
    // ...and Envoy calls into both VMs the same way per request (a missing export is skipped).
    expect(perRequestExports(bareBytes)).toEqual(perRequestExports(filterWasm()));
  });

  it("removes a client-sent variant header only when there is one", () => {
    const counted = callsOf([
      [":authority", HOST],
      ["x-meshcanary-variant", "canary"],
      ["x-user-id", "user-7"],
    ]);
    expect(counted.proxy_remove_header_map_value).toBe(1);
    expect(counted.proxy_get_header_map_pairs).toBe(1);
  });

  it("an unknown host costs the header copy and the table check, and nothing in on_log", () => {
    expect(
      callsOf([
        [":authority", "ratings.default.svc.cluster.local"],
        ["x-user-id", "user-7"],
      ]),
    ).toEqual({ malloc: 1, proxy_get_header_map_pairs: 1, proxy_get_shared_data: 1 });
  });
});
