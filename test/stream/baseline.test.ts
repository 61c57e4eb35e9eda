// The baseline of a new stream (proto Report.baseline): the real filter puts the totals of its last
// delivered report into the first report of each new stream only, keeps them in the shared state so
// a lease move carries them, and a controller that replaces another counts exactly the traffic the
// first one did not.
import { afterEach, describe, expect, it } from "vitest";
import type { Report } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { DirectiveBroadcaster } from "../../controller/telemetry/directives.js";
import type { TelemetryServer } from "../../controller/telemetry/index.js";
import { type GrpcServer, startGrpcServer } from "../../controller/telemetry/server.js";
import type { ProxyWasmHost } from "../../sandbox/host/index.js";
import {
  controllerTotals,
  drive,
  newHost,
  Relay,
  sharedState,
  startServer,
  step,
  stepUntil,
  streamWorker,
} from "./harness.js";

const hosts: ProxyWasmHost[] = [];
const closers: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const h of hosts.splice(0)) await h.close();
  for (const c of closers.splice(0)) await c.close();
});

/** n requests to `variant` over `workers`, every 10th answered 500. */
function driveOn(h: ProxyWasmHost, workers: number[], variant: string, n: number): void {
  for (let i = 0; i < n; i++)
    drive(h, workers[i % workers.length]!, variant, i % 10 === 0 ? 500 : 200, 2_000_000);
}

const requestsOf = (entries: Report["totals"], variant: string) =>
  Number(entries.find((t) => t.variant === variant)?.requests ?? -1n);

/** A Connect server that records every Report with the peer (one per connection) it came on. */
async function recordingServer(): Promise<{ server: GrpcServer; got: { peer: string; report: Report }[] }> {
  const got: { peer: string; report: Report }[] = [];
  const server = await startGrpcServer({
    address: "127.0.0.1:0",
    maxReceiveBytes: 1 << 20,
    directives: new DirectiveBroadcaster(),
    onReport: (msg, peer) => {
      if (msg.ok) got.push({ peer, report: msg.report });
      return null;
    },
  });
  return { server, got };
}

describe("stream baseline", () => {
  it("rides on each new stream's first report only, as the totals last confirmed delivered", async () => {
    const { server, got } = await recordingServer();
    closers.push(server);
    const relay = new Relay();
    closers.push(relay);
    await relay.start(server.port);
    const host = await newHost(relay.port, { workers: 2 });
    hosts.push(host);
    driveOn(host, [0, 1], "stable", 50);
    await stepUntil(host, () => got.some((g) => requestsOf(g.report.totals, "stable") === 50), "50 reported");
    // Two more intervals: the report carrying 50 is confirmed (stream still open) and is the baseline.
    for (let i = 0; i < 2; i++) await step(host);
    expect(requestsOf(sharedState(host)!.baseline, "stable")).toBe(50);
    const firstPeer = got[0]!.peer;
    expect(got.every((g) => g.peer === firstPeer && g.report.baseline.length === 0)).toBe(true);

    expect(relay.drop()).toBeGreaterThan(0);
    driveOn(host, [0, 1], "stable", 20);
    await stepUntil(host, () => got.some((g) => g.peer !== firstPeer), "a report on a new stream");
    for (let i = 0; i < 3; i++) await step(host);
    const onSecond = got.filter((g) => g.peer !== firstPeer);
    expect(onSecond.length).toBeGreaterThan(2);
    expect(new Set(onSecond.map((g) => g.peer)).size).toBe(1);
    expect(requestsOf(onSecond[0]!.report.baseline, "stable")).toBe(50);
    expect(requestsOf(onSecond[0]!.report.totals, "stable")).toBe(70);
    expect(onSecond.slice(1).every((g) => g.report.baseline.length === 0)).toBe(true);
    // Confirmed again on the new stream: the shared baseline moved on with it.
    expect(requestsOf(sharedState(host)!.baseline, "stable")).toBe(70);
  });

  it("a lease move, then a controller move: A + B count everything driven, exactly once", async () => {
    const a: TelemetryServer = await startServer();
    closers.push(a);
    const port = a.port;
    const host = await newHost(port, { workers: 3 });
    hosts.push(host);
    driveOn(host, [0, 1, 2], "stable", 90);
    driveOn(host, [0, 1, 2], "canary", 30);
    await stepUntil(host, () => controllerTotals(a, "stable").requests === 90, "A counts the first traffic");
    // The lease holder stops ticking (a stuck worker): another worker takes over, still with A.
    const holder = streamWorker(host);
    (host as unknown as { timers: { cancelWorker(w: number): void } }).timers.cancelWorker(holder);
    const others = [0, 1, 2].filter((w) => w !== holder);
    driveOn(host, others, "stable", 40);
    await stepUntil(host, () => streamWorker(host) !== holder, "another worker takes the lease");
    await stepUntil(
      host,
      () => controllerTotals(a, "stable").requests === 130,
      "A counts via the new holder",
    );
    await stepUntil(
      host,
      () => requestsOf(sharedState(host)!.baseline, "stable") === 130,
      "the new holder's delivered baseline",
    );
    await a.close();
    const byA = { stable: controllerTotals(a, "stable"), canary: controllerTotals(a, "canary") };
    // Traffic while no controller is up.
    driveOn(host, others, "stable", 25);
    driveOn(host, others, "canary", 15);
    await step(host);
    const b = await startServer(port);
    closers.push(b);
    driveOn(host, others, "canary", 5);
    await stepUntil(host, () => controllerTotals(b, "canary").requests === 20, "B counts the outage");
    for (let i = 0; i < 2; i++) await step(host);

    expect(byA.stable).toMatchObject({ requests: 130, status5xx: 13, latencyCount: 130 });
    expect(byA.canary).toMatchObject({ requests: 30, status5xx: 3 });
    // B: exactly what A did not count (25 stable, 15 + 5 canary), sketches included.
    expect(controllerTotals(b, "stable")).toMatchObject({ requests: 25, status5xx: 3, latencyCount: 25 });
    expect(controllerTotals(b, "canary")).toMatchObject({ requests: 20, status5xx: 3, latencyCount: 20 });
    const totals = sharedState(host)!.totals;
    expect(requestsOf(totals, "stable")).toBe(byA.stable.requests + controllerTotals(b, "stable").requests);
    expect(requestsOf(totals, "canary")).toBe(byA.canary.requests + controllerTotals(b, "canary").requests);
    expect(b.stats().rejected).toEqual({});
  });
});
