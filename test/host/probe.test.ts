// Drives test/fixtures/host/probe.wat, which records host-call results into shared data.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePairs, loadHost, type ProxyWasmHost } from "../../sandbox/host/index.js";
import { fixture } from "./wat.js";

const text = new TextDecoder();
let host: ProxyWasmHost;

function i32(key: string): number {
  const v = host.sharedData.get(key);
  if (!v) throw new Error(`fixture did not report ${key}`);
  return new DataView(v.value.buffer, v.value.byteOffset, 4).getInt32(0, true);
}
function bytes(key: string): Uint8Array {
  const v = host.sharedData.get(key);
  if (!v) throw new Error(`fixture did not report ${key}`);
  return v.value;
}
const str = (key: string): string => text.decode(bytes(key));
const i64 = (b: Uint8Array): bigint => new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true);
const guestLogs = (): string[] =>
  host.logs
    .filter((l) => l.message.startsWith("wasm log"))
    .map((l) => l.message.replace(/^wasm log[^:]*: /, ""));

beforeAll(async () => {
  host = await loadHost({
    module: fixture("probe"),
    pluginConfig: '{"a":1}',
    timers: "manual",
    node: { id: "sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local", metadata: { ZONE: "eu-1" } },
  });
});
afterAll(async () => {
  await host.close();
});

describe("start-up and root context", () => {
  it("reads the plugin configuration in on_configure and root-only properties", () => {
    expect(str("r:config")).toBe('{"a":1}');
    expect(str("r:root_node")).toBe("sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local");
    expect(str("r:root_zone")).toBe("eu-1");
    expect(i32("r:root_path_rc")).toBe(1); // NotFound: stream attribute in a root context
    expect(str("r:plugin")).toBe("default.meshcanary");
  });

  it("assigns metric ids with the type in the low bits and applies Envoy's metric errors", () => {
    const ids = new DataView(bytes("r:metric_ids").slice().buffer);
    expect([0, 4, 8, 12].map((o) => ids.getUint32(o, true))).toEqual([4, 5, 6, 8]);
    expect(i32("r:bad_type_rc")).toBe(2);
    expect(i32("r:inc0_rc")).toBe(2); // counter increment by 0 → BadArgument
    expect(i32("r:gauge_get")).toBe(40); // record 42 sets, increment -2 subtracts
    expect(i32("r:hist_get_rc")).toBe(2); // get on a histogram → BadArgument
    expect(i32("r:eff_rc")).toBe(2); // unknown effective context → BadArgument
  });

  it("implements the WASI subset: proc_exit returns, random_get limit, clock ids", () => {
    expect(i32("r:proc_exit_returned")).toBe(1);
    expect(i32("r:rand_big")).toBe(28);
    expect(i32("r:rand_ok")).toBe(0);
    expect(i32("r:clock_bad")).toBe(58);
  });

  it("ran on_vm_start/on_configure on the canary and on the worker", () => {
    const starts = guestLogs().filter((m) => m === "on_vm_start").length;
    expect(starts).toBe(2);
  });
});

describe("a request through the filter", () => {
  it("serves header and property calls inside on_request_headers", () => {
    const r = host.request({
      request: {
        headers: {
          ":authority": "svc",
          ":path": "/a?b=1",
          ":method": "GET",
          ":scheme": "http",
          "X-User": "u1",
        },
      },
      response: { status: 200, headers: { "content-type": "text/plain" } },
    });
    expect(i32("r:nh")).toBe(7); // 4 pseudo + x-user + x-forwarded-proto + x-request-id
    expect(i32("r:user_rc")).toBe(0);
    expect(str("r:user")).toBe("u1");
    expect(i32("r:mallocs")).toBe(1);
    expect(i32("r:msize")).toBe(2);
    expect(i32("r:missing_rc")).toBe(1);
    expect(i32("r:add_rc")).toBe(0);
    expect(i32("r:size_rc")).toBe(0);
    expect(i32("r:path_rc")).toBe(0);
    expect(str("r:path")).toBe("/a?b=1");
    expect(i32("r:dot_rc")).toBe(1);
    expect(i32("r:dur_rc")).toBe(1);
    expect(i32("r:badlog_rc")).toBe(2);
    const pairs = decodePairs(bytes("r:pairs"));
    expect(pairs.slice(0, 5)).toEqual([
      [":authority", "svc"],
      [":path", "/a?b=1"],
      [":method", "GET"],
      [":scheme", "http"],
      ["x-user", "u1"],
    ]);
    expect(pairs[5]).toEqual(["x-forwarded-proto", "http"]);
    expect(pairs[6]![0]).toBe("x-request-id");
    expect(pairs[7]).toEqual(["x-added", "1"]);
    // header byteSize as Envoy computes it, counted before x-added was appended... after: includes it
    const byteSize = pairs.reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(i32("r:size")).toBe(byteSize);
    expect(r.requestHeaders).toEqual(pairs);
    expect(r.localReply).toBeUndefined();
  });

  it("closes the request-header window after on_request_headers, read-only in on_log", () => {
    expect(i32("r:resp_req_rc")).toBe(2); // BadArgument in on_response_headers
    expect(i32("r:code_rc")).toBe(0);
    expect(i64(bytes("r:code"))).toBe(200n);
    expect(i32("r:log_user_rc")).toBe(0);
    expect(i32("r:log_add_rc")).toBe(2);
    expect(i32("r:log_size_rc")).toBe(2);
    expect(i32("r:log_dur_rc")).toBe(0);
  });

  it("reports request.duration in on_log as given", () => {
    host.request({ request: { headers: { ":path": "/" } }, response: { status: 204 }, durationNs: 1234567n });
    expect(i64(bytes("r:log_dur"))).toBe(1234567n);
  });

  it("calls on_log → on_done → on_delete in Envoy's order", () => {
    host.logs.length = 0;
    host.request({ request: { headers: { ":path": "/" } }, response: { status: 200 } });
    expect(guestLogs()).toEqual([
      "on_context_create",
      "on_request_headers",
      "on_response_headers",
      "on_log",
      "on_done",
      "on_delete",
    ]);
  });

  it("sends the filter's local reply through on_response_headers and forces stop", () => {
    const stream = host.startStream();
    const out = stream.requestHeaders({ ":path": "/", "x-reply": "1" }, true);
    expect(out.action).toBe("stop");
    expect(out.localReply).toMatchObject({ status: 403, details: "denied_by_probe" });
    expect(text.decode(out.localReply!.body)).toBe("nope");
    expect(out.localReply!.headers).toEqual([
      [":status", "403"],
      ["content-length", "4"],
      ["content-type", "text/plain"],
    ]);
    expect(i64(bytes("r:code"))).toBe(403n);
    stream.complete({});
  });

  it("exposes metrics by Envoy stat name and as Prometheus text", () => {
    const m = host.metrics();
    expect(m.get("wasmcustom.probe.requests")).toEqual({ type: "counter", value: 4 });
    expect(m.get("wasmcustom.probe.gauge")).toEqual({ type: "gauge", value: 40 });
    expect(m.get("wasmcustom.probe.latency")?.type).toBe("histogram");
    const prom = host.prometheus();
    expect(prom).toContain("# TYPE probe_requests counter\nprobe_requests{} 4\n");
    expect(prom).toContain("# TYPE probe_gauge gauge\nprobe_gauge{} 40\n");
    expect(prom).toContain("# TYPE probe_ticks counter");
    expect(prom).not.toContain("envoy_");
  });
});

describe("timers", () => {
  it("ticks per root context in manual mode, period after period", async () => {
    const ticks = () => host.metrics().get("wasmcustom.probe ticks")!.value;
    const before = ticks();
    await host.advance(999);
    expect(ticks()).toBe(before);
    await host.advance(1);
    expect(ticks()).toBe(before + 1);
    await host.advance(2500);
    expect(ticks()).toBe(before + 3);
  });
});

describe("configuration updates", () => {
  it("NACKs a config the canary rejects and keeps the old one", () => {
    const res = host.configure("bad config");
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error).toMatch(/^Unable to create Wasm HTTP filter default\.meshcanary: /);
    expect(str("r:config")).toBe("bad config"); // the canary saw it…
    host.logs.length = 0;
    host.request({ request: { headers: { ":path": "/" } } });
    expect(guestLogs()).toContain("on_request_headers"); // …and the worker still serves
  });

  it("applies a good config on a new root context; the old root is retired", () => {
    host.logs.length = 0;
    expect(host.configure('{"b":2}')).toEqual({ ok: true });
    expect(str("r:config")).toBe('{"b":2}');
    // canary: ctx, start, cfg; worker: ctx, start, cfg; then old root on_done/on_delete
    expect(guestLogs()).toEqual([
      "on_context_create",
      "on_vm_start",
      "on_configure",
      "on_context_create",
      "on_vm_start",
      "on_configure",
      "on_done",
      "on_delete",
    ]);
  });
});
