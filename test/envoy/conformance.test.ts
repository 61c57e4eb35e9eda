// One conformance suite, two hosts: the compiled filter in real Envoy (configured as Istio configures
// a client sidecar: ECDS Wasm, routes from the VirtualService, --concurrency 2) and in the TypeScript
// sidecar. Every scenario runs on both; a difference is a bug in our host.
import { connect } from "node:http2";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stickyBucket } from "../../controller/mesh/sticky-hash.js";
import { subtract } from "../../controller/telemetry/sketch.js";
import { stickyUserGroup, USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import type { DataPlaneKind } from "../../sandbox/data-plane.js";
import {
  CANARY,
  describeEachPlane,
  HOST,
  INTERVAL_MS,
  OTHER,
  quantile,
  send,
  sleep,
  startWorld,
  totals,
  waitFor,
  VARIANT,
  type World,
} from "./world.js";

/** One unary gRPC-shaped call over HTTP/2 cleartext; the response headers and trailers merged. */
function grpcCall(port: number, headers: Record<string, string>): Promise<Record<string, unknown>> {
  const session = connect(`http://127.0.0.1:${port}`);
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/reviews.v1.Reviews/Get",
      ":authority": HOST,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    let merged: Record<string, unknown> = {};
    stream.on("response", (h) => {
      merged = { ...merged, ...h };
    });
    stream.on("trailers", (t) => {
      merged = { ...merged, ...t };
    });
    stream.on("data", () => {});
    stream.on("end", () => {
      session.close();
      resolve(merged);
    });
    stream.on("error", (err) => {
      session.close();
      reject(err);
    });
    stream.end();
  });
}

const zeros = () => new Array<number>(USER_GROUPS).fill(0);
const slowKey = (variant: string, us: number) => `${variant} ${us}`;

/** Per "variant threshold", the controller's slow counts per user group over every window. */
function slowCounts(w: World): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const win of w.server.reader.series(CANARY, 0, Number.MAX_SAFE_INTEGER)) {
    for (const [variant, stats] of win.variants) {
      for (const [us, counts] of stats.userGroups?.slow ?? []) {
        const into = out.get(slowKey(variant, us)) ?? zeros();
        counts.forEach((n, g) => {
          into[g]! += n;
        });
        out.set(slowKey(variant, us), into);
      }
    }
  }
  return out;
}

function variantSeen(w: World, upstream: "v1" | "v2" | "other"): (string | string[] | undefined)[] {
  return w.up[upstream].seen.map((h) => h[VARIANT]);
}

describeEachPlane("filter conformance", (kind: DataPlaneKind) => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld(kind);
    // The first Directive proves the stream is up before any scenario relies on it.
    await w.setCanaryWeight(1000);
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it("loads the module and logs nothing at warning level per request", async () => {
    const before = w.plane.warnings().length;
    for (let i = 0; i < 200; i++) expect((await send(w.plane, { "x-user-id": `u${i}` })).status).toBe(200);
    expect(w.plane.warnings().slice(before)).toEqual([]);
  });

  it("routes a pin header and a pin cookie to the canary subset", async () => {
    const n2 = w.up.v2.seen.length;
    expect((await send(w.plane, { "x-meshcanary-pin": "canary" })).body).toBe("v2");
    expect((await send(w.plane, { cookie: "a=b; meshcanary-pin=canary" })).body).toBe("v2");
    expect(variantSeen(w, "v2").slice(n2)).toEqual(["canary", "canary"]);
  });

  it("never honours a client-sent variant header, and leaves unknown hosts untouched", async () => {
    await w.setCanaryWeight(0);
    const n1 = w.up.v1.seen.length;
    for (let i = 0; i < 50; i++) {
      const r = await send(w.plane, { [VARIANT]: "canary", "x-user-id": `spoof${i}` });
      expect(r.body).toBe("v1");
    }
    expect(new Set(variantSeen(w, "v1").slice(n1))).toEqual(new Set(["stable"]));
    // A host the filter has no route for: the client's header reaches the upstream as sent.
    const r = await send(w.plane, { host: OTHER, [VARIANT]: "canary", "x-meshcanary-pin": "canary" });
    expect(r.body).toBe("other");
    expect(w.up.other.seen.at(-1)?.[VARIANT]).toBe("canary");
  });

  it("keeps sticky users on their variant as the weight grows, as the shared hash says", async () => {
    const users = Array.from({ length: 600 }, (_, i) => `user-${i}`);
    const servedAt = async (bp: number) => {
      await w.setCanaryWeight(bp);
      const out = new Map<string, string>();
      for (const u of users) out.set(u, (await send(w.plane, { "x-user-id": u })).body);
      return out;
    };
    const at10 = await servedAt(1000);
    const at50 = await servedAt(5000);
    for (const u of users) {
      const bucket = stickyBucket("conformance", u);
      expect(at10.get(u), u).toBe(bucket >= 9000 ? "v2" : "v1");
      expect(at50.get(u), u).toBe(bucket >= 5000 ? "v2" : "v1");
    }
  });

  it("splits by weight within statistical tolerance without a sticky key", async () => {
    await w.setCanaryWeight(3000);
    const n = 800;
    let canary = 0;
    for (let i = 0; i < n; i++) if ((await send(w.plane, {})).body === "v2") canary++;
    // 4.5 standard deviations of a fair 30% draw.
    expect(Math.abs(canary / n - 0.3)).toBeLessThan(4.5 * Math.sqrt((0.3 * 0.7) / n));
  });

  it("applies a Directive within one report interval", async () => {
    await w.setCanaryWeight(0);
    const published = Date.now();
    w.publishCanaryWeight(10000);
    // The stream's holder applies it on receipt, the other worker on its next tick (one interval).
    let allCanarySince: number | undefined;
    let streak = 0;
    while (streak < 20) {
      const sentAt = Date.now();
      const canary = (await send(w.plane, {})).body === "v2";
      if (canary && streak === 0) allCanarySince = sentAt;
      streak = canary ? streak + 1 : 0;
      expect(Date.now() - published).toBeLessThan(10_000);
    }
    expect((allCanarySince ?? Number.POSITIVE_INFINITY) - published).toBeLessThanOrEqual(INTERVAL_MS + 250);
  });

  it("tallies at the controller what the upstreams served: status classes, failures, metrics, latency", async () => {
    await w.setCanaryWeight(1000);
    // Earlier scenarios' last requests reach the controller with the next report: let them land.
    await sleep(2 * INTERVAL_MS + 200);
    const before = {
      stable: totals(w.server, "stable"),
      canary: totals(w.server, "canary"),
      dead: totals(w.server, "dead"),
    };
    const served1 = new Map(w.up.v1.served);
    const plan: { pin: string; status: number; tokens: number; delay: number; n: number }[] = [
      { pin: "stable", status: 200, tokens: 7, delay: 0, n: 120 },
      { pin: "stable", status: 500, tokens: 0, delay: 0, n: 12 },
      { pin: "stable", status: 404, tokens: 0, delay: 0, n: 8 },
      { pin: "canary", status: 200, tokens: 30, delay: 20, n: 40 },
      { pin: "canary", status: 200, tokens: 30, delay: 80, n: 40 },
    ];
    const canaryMs: number[] = [];
    for (const p of plan) {
      for (let i = 0; i < p.n; i++) {
        const r = await send(w.plane, {
          "x-meshcanary-pin": p.pin,
          "x-test-status": String(p.status),
          "x-test-delay-ms": String(p.delay),
          ...(p.tokens ? { "x-test-tokens": String(p.tokens) } : {}),
        });
        expect(r.status).toBe(p.status);
        if (p.pin === "canary") canaryMs.push(r.ms);
      }
    }
    // Pinned to a subset whose pod is gone: Envoy answers 503 with an upstream-failure flag.
    for (let i = 0; i < 5; i++)
      expect((await send(w.plane, { "x-meshcanary-pin": "dead" })).status).toBe(503);

    const delta = (v: "stable" | "canary" | "dead") => {
      const t = totals(w.server, v);
      const b = before[v];
      return {
        requests: t.requests - b.requests,
        failures: t.failures - b.failures,
        status2xx: t.status2xx - b.status2xx,
        status4xx: t.status4xx - b.status4xx,
        status5xx: t.status5xx - b.status5xx,
        statusNone: t.statusNone - b.statusNone,
        tokens: t.tokens - b.tokens,
      };
    };
    await waitFor(
      () => delta("stable").requests >= 140 && delta("canary").requests >= 80 && delta("dead").requests >= 5,
      "the controller to hold every request",
      10_000,
    );
    await sleep(INTERVAL_MS + 200);
    const servedStable = (code: number) => (w.up.v1.served.get(code) ?? 0) - (served1.get(code) ?? 0);
    expect(delta("stable")).toEqual({
      requests: 140,
      failures: servedStable(500),
      status2xx: servedStable(200),
      status4xx: servedStable(404),
      status5xx: servedStable(500),
      statusNone: 0,
      tokens: 7 * 120,
    });
    expect(delta("canary")).toMatchObject({ requests: 80, failures: 0, status2xx: 80, tokens: 30 * 80 });
    expect(delta("dead")).toMatchObject({ requests: 5, failures: 5, status5xx: 5 });
    // Latency: the filter's (routing to on_log) lies between the upstream's delay and what the client saw.
    const sketch = subtract(totals(w.server, "canary").latencyUs, before.canary.latencyUs);
    if (sketch instanceof Error) throw sketch;
    const sorted = [...canaryMs].sort((a, b) => a - b);
    for (const [q, delay] of [
      [0.25, 20],
      [0.75, 80],
    ] as const) {
      const filterMs = quantile(sketch, q) / 1000;
      const clientMs = sorted[Math.floor(q * sorted.length)] ?? 0;
      expect(filterMs, `p${q * 100}`).toBeGreaterThanOrEqual(delay * 0.99);
      expect(filterMs, `p${q * 100}`).toBeLessThanOrEqual(clientMs * 1.01 + 1);
    }
  });

  it("counts per user group the sticky requests slower than their variant's Directive threshold; pinned ones in none", async () => {
    // Margins of 150 ms around each threshold: a loaded machine's Envoy must not move a request across.
    const thresholds = [
      { variant: "stable", thresholdUs: 150_000 },
      { variant: "canary", thresholdUs: 400_000 },
    ];
    await w.setCanaryWeight(1000, { slowThresholds: thresholds });
    const expected = new Map(thresholds.map((t) => [slowKey(t.variant, t.thresholdUs), zeros()]));
    // 16 users on the canary and 32 on stable, with the groups the controller computes.
    const users: { key: string; variant: string; group: number }[] = [];
    const wanted = new Map([
      ["stable", 32],
      ["canary", 16],
    ]);
    for (let u = 0; [...wanted.values()].some((n) => n > 0); u++) {
      const key = `slow-user-${u}`;
      const variant = stickyBucket("conformance", key) >= 9000 ? "canary" : "stable";
      if (wanted.get(variant)! <= 0) continue;
      wanted.set(variant, wanted.get(variant)! - 1);
      users.push({ key, variant, group: stickyUserGroup("conformance", key) });
    }
    const plan: Record<string, string>[] = [];
    users.forEach((user, u) => {
      // 0 ms: under both; 250 ms: over stable's only; 550 ms: over both.
      for (const delay of [0, u % 2 ? 250 : 0, u % 3 === 0 ? 550 : 0]) {
        plan.push({ "x-user-id": user.key, "x-test-delay-ms": String(delay) });
        for (const t of thresholds) {
          if (t.variant === user.variant && delay * 1000 > t.thresholdUs)
            expected.get(slowKey(t.variant, t.thresholdUs))![user.group]!++;
        }
      }
    });
    // Pinned: not randomised, in no group, however slow.
    for (let i = 0; i < 6; i++) plan.push({ "x-meshcanary-pin": "canary", "x-test-delay-ms": "550" });
    // Eight at a time (a burst of 150 would queue in the proxy and make fast requests slow), the
    // slowest last so that a batch waits for no slower request than its own.
    plan.sort((a, b) => Number(a["x-test-delay-ms"]) - Number(b["x-test-delay-ms"]));
    for (let i = 0; i < plan.length; i += 8) {
      const replies = await Promise.all(plan.slice(i, i + 8).map((h) => send(w.plane, h)));
      for (const r of replies) expect(r.status).toBe(200);
    }
    const total = (m: Map<string, number[]>) => [...m.values()].flat().reduce((a, b) => a + b, 0);
    await waitFor(() => total(slowCounts(w)) >= total(expected), "the slow counts at the controller", 10_000);
    await sleep(INTERVAL_MS + 200);
    expect(slowCounts(w)).toEqual(expected);
    for (const [key, counts] of expected)
      expect(
        counts.some((n) => n > 0),
        key,
      ).toBe(true);
    // Back to a table without thresholds for the scenarios after this one.
    w.publishCanaryWeight(1000);
  });

  it("answers a gRPC request whose upstream is gone with :status 200 + grpc-status 14, tallied as a failure", async () => {
    const before = totals(w.server, "dead");
    const reply = await grpcCall(w.plane.port, { "x-meshcanary-pin": "dead" });
    expect(reply).toMatchObject({ ":status": 200, "grpc-status": "14" });
    await waitFor(
      () => totals(w.server, "dead").requests > before.requests,
      "the gRPC request tallied",
      10_000,
    );
    const after = totals(w.server, "dead");
    expect([after.failures - before.failures, after.status2xx - before.status2xx]).toEqual([1, 1]);
  });

  it("keeps routing and counting through a controller restart, then reports to the new one", async () => {
    await w.setCanaryWeight(10000);
    const next = w.restartServer();
    for (let i = 0; i < 20; i++) expect((await send(w.plane, {})).body).toBe("v2");
    const server = await next;
    for (let i = 0; i < 20; i++) await send(w.plane, {});
    await waitFor(() => server.stats().accepted > 0, "a report on the restarted controller", 15_000);
    // The first report on the new stream carries the totals last delivered as its baseline, so the
    // requests served while no controller listened are counted too.
    await waitFor(() => totals(server, "canary").requests >= 40, "the outage's requests counted", 10_000);
  });

  it("shows the Envoy counters under the names the install docs give", async () => {
    const stats = await w.plane.metrics();
    expect(stats.get("wasmcustom.meshcanary_requests__default__reviews__canary")).toBeGreaterThan(0);
    expect(stats.get("wasmcustom.meshcanary_requests__default__reviews__stable")).toBeGreaterThan(0);
    expect(stats.get("wasmcustom.meshcanary_failures__default__reviews__dead")).toBeGreaterThanOrEqual(5);
  });

  it("renders them in /stats/prometheus without the wasmcustom namespace and without envoy_", async () => {
    const text = await w.plane.prometheus();
    const types = new Map(
      [...text.matchAll(/^# TYPE (meshcanary_\S+) (\w+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
    for (const kind of ["requests", "failures"]) {
      for (const v of ["stable", "dead", "canary"])
        expect(types.get(`meshcanary_${kind}__default__reviews__${v}`)).toBe("counter");
    }
    expect(types.get("meshcanary_pin_rejected")).toBe("counter");
    expect(text).toMatch(/^meshcanary_requests__default__reviews__canary\{\} [1-9]\d*$/m);
    expect(text).not.toMatch(/envoy_wasmcustom|envoy_meshcanary/);
  });

  it("matches a service's name with its port as well", async () => {
    expect((await send(w.plane, { host: `${HOST}:9080`, "x-meshcanary-pin": "stable" })).body).toBe("v1");
  });
});
