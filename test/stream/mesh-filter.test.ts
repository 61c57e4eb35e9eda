// The filter's mesh-shaped defects, each through the real build/meshcanary.wasm in the sandbox host
// (and the real telemetry server where reports matter): hostile metric headers never make a sum
// non-finite; canaries that left the routing table are forgotten once delivered, so memory stays
// flat under unlimited churn; an unusable pin header falls back to the pin cookie; a request never
// copies the whole routing table out of shared data to check its version.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DirectiveSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { startTelemetryServer } from "../../controller/telemetry/index.js";
import { loadHost, type ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterWasm } from "../filter/filter-wasm.js";
import { CLUSTER, closedAfterEach, INTERVAL_MS, sharedState, step, stepUntil, waitFor } from "./harness.js";

const { hosts, servers } = closedAfterEach();

async function setup(routes: unknown[], workers = 2) {
  const server = await startTelemetryServer({ address: "127.0.0.1:0", isKnownCanary: () => true });
  servers.push(server);
  const host = await loadHost({
    module: filterWasm(),
    workers,
    pluginConfig: JSON.stringify({ controller: { cluster: CLUSTER, intervalMs: INTERVAL_MS }, routes }),
    clusters: { [CLUSTER]: `127.0.0.1:${server.port}` },
    node: { metadata: { NAME: "caller-1", NAMESPACE: "team-a", WORKLOAD_NAME: "caller" } },
    timers: "manual",
  });
  hosts.push(host);
  return { server, host };
}

/** A 50/50 route for `canary`: plugin configuration spells weights `weight`, a Directive `weightBp`. */
function route(canary: string, extra: Record<string, unknown> = {}, weightKey = "weight") {
  const name = canary.split("/")[1]!;
  return {
    host: `${name}.default.svc.cluster.local`,
    canary,
    variants: ["stable", "canary"].map((v) => ({ name: v, [weightKey]: 5000 })),
    ...extra,
  };
}

/** The same route as the controller sends it in a Directive. */
const directiveRoute = (canary: string) => route(canary, {}, "weightBp");

function send(
  h: ProxyWasmHost,
  authority: string,
  variant: string,
  responseHeaders: [string, string][] = [],
) {
  return h.request({
    request: {
      headers: [
        [":authority", authority],
        ["x-meshcanary-pin", variant],
      ],
    },
    response: { status: 200, headers: responseHeaders },
    durationNs: 1_000_000,
  });
}

/** Whether the filter set the variant header on a request to `authority` (i.e. it is routed). */
function isRouted(h: ProxyWasmHost, authority: string): boolean {
  return send(h, authority, "canary").requestHeaders.some(([k]) => k === "x-meshcanary-variant");
}

describe("hostile metric headers", () => {
  it("1.7e308, inf and nan never make a sum non-finite; every report is accepted, counts exact", async () => {
    const { server, host } = await setup([
      route("default/tokens", { metrics: [{ name: "tokens", header: "x-llm-total-tokens" }] }),
    ]);
    const values = ["1.7e308", "1.7e308", "inf", "nan", "-1.7e308", "1e999", "12", "1.7e308"];
    for (let i = 0; i < 40; i++) {
      send(host, "tokens", "canary", [["x-llm-total-tokens", values[i % values.length]!]]);
    }
    const total = () =>
      server.reader
        .series("default/tokens", 0, Number.MAX_SAFE_INTEGER)
        .reduce((n, p) => n + (p.variants.get("canary")?.requests ?? 0), 0);
    await stepUntil(host, () => total() === 40, "the 40 requests counted");
    const m = sharedState(host)!.totals.find((t) => t.variant === "canary")!.metrics[0]!;
    expect(Number.isFinite(m.sum)).toBe(true);
    // inf, nan and 1e999 are no numbers: 5 of the 8 values count.
    expect(Number(m.count)).toBe(25);
    for (let i = 0; i < 3; i++) await step(host);
    expect(server.stats().rejected).toEqual({});
    expect(server.stats().droppedEntries).toEqual({});
    for (const p of server.reader.series("default/tokens", 0, Number.MAX_SAFE_INTEGER)) {
      const s = p.variants.get("canary")?.metrics.get("tokens");
      if (s) expect(Number.isFinite(s.sum)).toBe(true);
    }
  });
});

describe("canary churn", () => {
  it("forgets canaries that left the routing table once delivered: memory, report and controller state stay flat", async () => {
    const { server, host } = await setup([], 1);
    let version = 1n;
    /** Routes canary `i` (and only it) for one interval with one request, then the next. */
    const churn = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const canary = `default/c${i}`;
        server.publish(create(DirectiveSchema, { version: version++, routes: [directiveRoute(canary)] }));
        await stepUntil(host, () => isRouted(host, `c${i}`), `route ${canary}`, 20);
      }
      // Two more intervals with an empty table: the last canary is delivered, then forgotten.
      server.publish(create(DirectiveSchema, { version: version++, routes: [] }));
      await stepUntil(host, () => sharedState(host)!.totals.length === 0, "every canary forgotten", 20);
    };
    await churn(0, 20);
    const memory = host.memoryBytes();
    await churn(20, 220);
    expect(host.memoryBytes()).toBe(memory);
    expect(sharedState(host)!.baseline).toEqual([]);
    // The controller counted each canary's one request, and forgot the reporter's entries with it.
    const counted = (i: number) =>
      server.reader
        .series(`default/c${i}`, 0, Number.MAX_SAFE_INTEGER)
        .reduce((n, p) => n + (p.variants.get("canary")?.requests ?? 0), 0);
    for (const i of [0, 19, 20, 100, 219]) expect(counted(i), `c${i}`).toBeGreaterThanOrEqual(1);
    expect(server.stats().droppedEntries).toEqual({});
  }, 60_000);
});

describe("pin header and cookie", () => {
  it("a pin header naming no variant falls back to the pin cookie", async () => {
    const host = await loadHost({
      module: filterWasm(),
      workers: 1,
      pluginConfig: JSON.stringify({
        routes: [{ ...route("default/pin"), pin: { header: "x-pin", cookie: "pin" } }],
      }),
      timers: "manual",
    });
    hosts.push(host);
    const variant = (headers: [string, string][]) =>
      host
        .request({ request: { headers: [[":authority", "pin"], ...headers] }, response: { status: 200 } })
        .requestHeaders.filter(([k]) => k === "x-meshcanary-variant")
        .map(([, v]) => v);
    for (let i = 0; i < 20; i++) {
      expect(
        variant([
          ["x-pin", "nonexistent"],
          ["cookie", "a=b; pin=canary"],
        ]),
      ).toEqual(["canary"]);
      expect(
        variant([
          ["x-pin", "stable"],
          ["cookie", "pin=canary"],
        ]),
      ).toEqual(["stable"]);
    }
  });
});

describe("directive version check", () => {
  it("a request reads only the empty change marker to see the table is current, never the stored Directive", async () => {
    const routes = Array.from({ length: 200 }, (_, i) => directiveRoute(`default/big${i}`));
    const { server, host } = await setup([], 2);
    server.publish(create(DirectiveSchema, { version: 7n, routes }));
    await stepUntil(host, () => isRouted(host, "big5"), "the big table", 20);
    for (let w = 0; w < host.workerCount; w++) send(host, "big5", "canary");
    // Counts what the host hands the filter out of shared data from here on (the store is private).
    const store = (
      host as unknown as { store: { get(vm: string, key: string): { value: Uint8Array } | undefined } }
    ).store;
    const reads = new Map<string, number>();
    const bytes = new Map<string, number>();
    const get = store.get.bind(store);
    store.get = (vm, key) => {
      const v = get(vm, key);
      reads.set(key, (reads.get(key) ?? 0) + 1);
      bytes.set(key, (bytes.get(key) ?? 0) + (v?.value.byteLength ?? 0));
      return v;
    };
    for (let i = 0; i < 500; i++) send(host, `big${i % 200}`, "canary");
    expect(reads.get("meshcanary.directive") ?? 0).toBe(0);
    expect(reads.get("meshcanary.directive.version") ?? 0).toBe(0);
    // An empty value: Envoy returns it without calling into the VM's malloc.
    expect(reads.get("meshcanary.directive.changed")).toBe(500);
    expect(bytes.get("meshcanary.directive.changed")).toBe(0);
  });
});

describe("a canary leaving the table and back within one report interval", () => {
  it("is counted on from its delivered totals, never restarted from zero under the controller's", async () => {
    // A replica's pass raced a leadership reset and published a table without running canaries,
    // then the whole table again (test/mesh-e2e with a 2-s lease). The filter forgot them when the
    // second table arrived, judged by the first, and the next flush restarted them from zero under
    // the controller's old totals: dropped as counters going backwards while below them, and only
    // the excess counted once above (here 11 of 12 requests lost without a drop).
    const { server, host } = await setup([], 1);
    const canary = "default/flap";
    let routed = 0;
    /** One pinned request; counts it when the filter routed (and so tallied) it. */
    const request = (): boolean => {
      const marked = send(host, "flap", "canary").requestHeaders.some(([k]) => k === "x-meshcanary-variant");
      if (marked) routed++;
      return marked;
    };
    const counted = () =>
      server.reader
        .series(canary, 0, Number.MAX_SAFE_INTEGER)
        .reduce((n, p) => n + (p.variants.get("canary")?.requests ?? 0), 0);
    const table = (version: bigint, routes: ReturnType<typeof directiveRoute>[]) =>
      server.publish(create(DirectiveSchema, { version, routes }));
    table(1n, [directiveRoute(canary)]);
    await stepUntil(host, request, "the first table", 20);
    for (let i = 0; i < 10; i++) request();
    await stepUntil(host, () => counted() === routed, "the first requests counted", 20);
    table(2n, []);
    await waitFor(() => !request(), "the empty table");
    table(3n, [directiveRoute(canary)]);
    await waitFor(request, "the table back");
    for (let i = 0; i < 10; i++) request();
    for (let i = 0; i < 4; i++) await step(host);
    expect({ counted: counted(), dropped: server.stats().droppedEntries }).toEqual({
      counted: routed,
      dropped: {},
    });
  });
});
