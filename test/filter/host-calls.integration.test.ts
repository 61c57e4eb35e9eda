// The host calls the real build/meshcanary.wasm makes per request, counted in our host. In Envoy
// every one crosses between V8 and C++ (and each value the host returns adds a call into the VM's
// malloc); they were most of the filter's CPU per request (bench/envoy-overhead.ts). These budgets
// keep the request path at one header copy, one shared-data check and one header write.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BENCH_ROUTE } from "../../bench/filter-cost.js";
import { type Headers, loadHost, type ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterWasm } from "./filter-wasm.js";

const HOST = BENCH_ROUTE.host;
/** The benchmark's route: 90/10, sticky on x-user-id. */
const CONFIG = JSON.stringify({ routes: [BENCH_ROUTE] });

let host: ProxyWasmHost;
let counting = false;
const calls = new Map<string, number>();

/** The host calls (and mallocs) of one whole request, by name. */
function callsOf(headers: Headers): Record<string, number> {
  calls.clear();
  counting = true;
  host.request({ request: { headers }, response: { status: 200, bodyBytes: 10 }, durationNs: 1_000_000 });
  counting = false;
  return Object.fromEntries([...calls].sort(([a], [b]) => a.localeCompare(b)));
}

beforeAll(async () => {
  host = await loadHost({
    module: filterWasm(),
    workers: 1,
    pluginConfig: CONFIG,
    timers: "manual",
    onHostCall: (name) => {
      if (counting) calls.set(name, (calls.get(name) ?? 0) + 1);
    },
  });
});
afterAll(async () => {
  await host.close();
});

/** on_log: response.code/flags/size and request.duration (each a malloc'd value), one counter. */
const ON_LOG = { proxy_get_property: 4, proxy_increment_metric: 1 };

describe("host calls per request", () => {
  it("a routed sticky request: one header copy, one shared-data check, one header write, then on_log", () => {
    expect(
      callsOf([
        [":authority", `${HOST}:9080`],
        [":path", "/"],
        ["x-user-id", "user-7"],
      ]),
    ).toEqual({
      malloc: 1 + ON_LOG.proxy_get_property,
      proxy_get_header_map_pairs: 1,
      proxy_get_property: ON_LOG.proxy_get_property,
      proxy_get_shared_data: 1,
      proxy_increment_metric: ON_LOG.proxy_increment_metric,
      proxy_replace_header_map_value: 1,
    });
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
