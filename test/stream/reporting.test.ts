// The real filter (several workers in the sandbox host) reporting to the real telemetry server:
// one reporter per proxy, exact totals, routing changes reaching every worker, the lease moving
// when its holder stops, and a proxy restart.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DirectiveSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import type { TelemetryServer } from "../../controller/telemetry/index.js";
import type { ProxyWasmHost } from "../../sandbox/host/index.js";
import {
  closedAfterEach,
  controllerTotals,
  drive,
  newHost,
  pluginConfig,
  sharedState,
  startServer,
  step,
  stepUntil,
  streamWorker,
  waitFor,
} from "./harness.js";

const { hosts, servers } = closedAfterEach();

async function setup(workers = 3, token?: string, env?: Record<string, string>, config?: string) {
  const server = await startServer(0, token);
  servers.push(server);
  const host = await newHost(server.port, { workers, env, config });
  hosts.push(host);
  return { server, host };
}

/** Drives a fixed mix over all workers; returns the expected per-variant counts. */
function driveMix(h: ProxyWasmHost, n: number, offset = 0) {
  const want = new Map<
    string,
    { requests: number; failures: number; s2: number; s5: number; none: number }
  >();
  for (let i = 0; i < n; i++) {
    const variant = (i + offset) % 3 === 0 ? "canary" : "stable";
    const status = i % 11 === 0 ? undefined : i % 7 === 0 ? 503 : 200;
    drive(h, i % h.workerCount, variant, status, 1_000_000 + i * 1000);
    const w = want.get(variant) ?? { requests: 0, failures: 0, s2: 0, s5: 0, none: 0 };
    w.requests++;
    if (status !== 200) w.failures++;
    if (status === 200) w.s2++;
    if (status === 503) w.s5++;
    if (status === undefined) w.none++;
    want.set(variant, w);
  }
  return want;
}

function sumWant(...parts: ReturnType<typeof driveMix>[]) {
  const out = new Map<string, { requests: number; failures: number; s2: number; s5: number; none: number }>();
  for (const p of parts) {
    for (const [v, w] of p) {
      const o = out.get(v) ?? { requests: 0, failures: 0, s2: 0, s5: 0, none: 0 };
      out.set(v, {
        requests: o.requests + w.requests,
        failures: o.failures + w.failures,
        s2: o.s2 + w.s2,
        s5: o.s5 + w.s5,
        none: o.none + w.none,
      });
    }
  }
  return out;
}

function matches(server: TelemetryServer, want: ReturnType<typeof driveMix>): boolean {
  for (const [v, w] of want) {
    if (controllerTotals(server, v).requests !== w.requests) return false;
  }
  return true;
}

function expectTotals(server: TelemetryServer, want: ReturnType<typeof driveMix>): void {
  for (const [v, w] of want) {
    const got = controllerTotals(server, v);
    expect(got, v).toEqual({
      requests: w.requests,
      failures: w.failures,
      status2xx: w.s2,
      status5xx: w.s5,
      statusNone: w.none,
      latencyCount: w.requests,
    });
  }
}

/** The variant each worker picks for an unpinned, key-less request. */
function decisions(h: ProxyWasmHost, perWorker: number): Set<string>[] {
  const out: Set<string>[] = [];
  for (let w = 0; w < h.workerCount; w++) {
    const seen = new Set<string>();
    for (let i = 0; i < perWorker; i++) {
      const r = h.request(
        { request: { headers: [[":authority", "reviews"]] }, response: { status: 200 } },
        w,
      );
      for (const [k, v] of r.requestHeaders) if (k === "x-meshcanary-variant") seen.add(v);
    }
    out.push(seen);
  }
  return out;
}

describe("reporting", () => {
  it("sends the proxy's totals once per proxy, exactly as driven through all workers", async () => {
    // tokenEnv names the env var whose value the stream carries as x-meshcanary-token.
    const config = pluginConfig({ tokenEnv: "MESHCANARY_TOKEN" });
    const { server, host } = await setup(3, "s3cret", { MESHCANARY_TOKEN: "s3cret" }, config);
    const want = driveMix(host, 3000);
    await stepUntil(host, () => matches(server, want), "controller totals equal the driven traffic");
    expectTotals(server, want);
    const stats = server.stats();
    expect(stats.reporters).toBe(1);
    expect(stats.streams).toBe(1);
    expect(stats.rejected).toEqual({});
    expect(stats.ignored).toBe(0);
    // More intervals add reports but no counts.
    for (let i = 0; i < 3; i++) await step(host);
    expectTotals(server, want);
    expect(server.stats().accepted).toBeGreaterThan(stats.accepted);
  });

  it("is refused without the right token, and routing carries on", async () => {
    const { server, host } = await setup(2, "s3cret");
    const want = driveMix(host, 100);
    for (let i = 0; i < 4; i++) await step(host);
    expect(server.stats().accepted).toBe(0);
    expect(server.stats().refusedStreams.token).toBeGreaterThan(0);
    expect(controllerTotals(server, "stable").requests).toBe(0);
    expect(host.logs.some((l) => l.message.includes("grpc status 16"))).toBe(true);
    expect(host.failed(0) || host.failed(1)).toBe(false);
    // The proxy state still holds everything for a later, authorised stream.
    const state = sharedState(host)!;
    expect(Number(state.totals.find((t) => t.variant === "stable")?.requests)).toBe(
      want.get("stable")!.requests,
    );
  });

  it("applies a published routing change on every worker within one interval", async () => {
    const { server, host } = await setup(3);
    await stepUntil(host, () => server.stats().streams === 1, "stream open");
    expect(decisions(host, 200).every((s) => s.has("stable") && s.has("canary"))).toBe(true);
    const directive = create(DirectiveSchema, {
      version: 5n,
      routes: [
        {
          host: "reviews.default.svc.cluster.local",
          canary: "default/reviews",
          variants: [
            { name: "stable", weightBp: 0 },
            { name: "canary", weightBp: 10000 },
          ],
        },
      ],
    });
    expect(server.publish(directive)).toBeUndefined();
    // The holder applies it on receipt (no tick needed) ...
    await waitFor(
      () => host.logs.some((l) => l.message.includes("applied directive version 5")),
      "the holder to apply the directive",
    );
    // ... and every other worker on its next tick.
    await step(host);
    for (const seen of decisions(host, 50)) expect([...seen]).toEqual(["canary"]);
    await stepUntil(
      host,
      () => server.reader.routingVersions().get("default/reviews-7d9f-abcde") === 5,
      "version reported",
    );
  });

  it("ignores and counts an invalid directive, keeping the last table", async () => {
    const { server, host } = await setup(2);
    await stepUntil(host, () => server.stats().streams === 1, "stream open");
    const bad = create(DirectiveSchema, {
      version: 7n,
      routes: [
        {
          host: "reviews.default.svc.cluster.local",
          canary: "default/reviews",
          variants: [
            { name: "stable", weightBp: 5000 },
            { name: "canary", weightBp: 6000 },
          ],
        },
      ],
    });
    expect(server.publish(bad)).toBeUndefined();
    await waitFor(() => host.logs.some((l) => l.message.includes("directive rejected")), "the rejection");
    expect(host.logs.find((l) => l.message.includes("directive rejected"))!.message).toContain(
      "routes[0].variants: weights must sum to 10000, got 11000",
    );
    await step(host);
    expect(Number(sharedState(host)!.counters.directive_rejected)).toBe(1);
    expect(decisions(host, 200).every((s) => s.has("stable") && s.has("canary"))).toBe(true);
  });

  it("moves the lease when the holder stops ticking; the sequence continues", async () => {
    const { server, host } = await setup(3);
    const first = driveMix(host, 300);
    await stepUntil(host, () => matches(server, first), "first totals");
    const holder = streamWorker(host);
    expect(holder).toBeGreaterThanOrEqual(0);
    const seqBefore = sharedState(host)!.seq;
    // A stuck worker: its timer stops (Envoy: a blocked thread), its stream stays open but silent.
    (host as unknown as { timers: { cancelWorker(w: number): void } }).timers.cancelWorker(holder);
    const others = [0, 1, 2].filter((w) => w !== holder);
    const second = new Map<
      string,
      { requests: number; failures: number; s2: number; s5: number; none: number }
    >();
    for (let i = 0; i < 200; i++) {
      drive(host, others[i % 2]!, "canary", 200, 2_000_000);
    }
    second.set("canary", { requests: 200, failures: 0, s2: 200, s5: 0, none: 0 });
    const steps = await stepUntil(
      host,
      () => streamWorker(host) !== holder,
      "another worker takes the lease",
    );
    expect(steps).toBeLessThanOrEqual(4); // 3 intervals of lease + the tick that notices
    const want = sumWant(first, second);
    await stepUntil(host, () => matches(server, want), "totals after the move");
    expectTotals(server, want);
    expect(sharedState(host)!.seq).toBeGreaterThan(seqBefore);
    // Strictly increasing seqs: the controller saw no duplicate or out-of-order report.
    expect(server.stats().ignored).toBe(0);
    expect(server.stats().reporters).toBe(1);
  });

  it("a proxy restart is a new instance whose totals add up", async () => {
    const { server, host } = await setup(2);
    const a = driveMix(host, 400);
    await stepUntil(host, () => matches(server, a), "first instance totals");
    const firstId = sharedState(host)!.reporter!.instanceId;
    await host.close();
    const host2 = await newHost(server.port, { workers: 2 });
    hosts.push(host2);
    expect(sharedState(host2)!.reporter!.instanceId).not.toBe(firstId);
    const b = driveMix(host2, 250, 1);
    const want = sumWant(a, b);
    await stepUntil(host2, () => matches(server, want), "totals of both instances");
    expectTotals(server, want);
    expect(server.stats().reporters).toBe(1);
  });
});
