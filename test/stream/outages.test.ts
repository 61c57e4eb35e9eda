// The controller stream under failure: a dropped connection, a controller restart on the same port
// (the first report on the new stream carries the baseline the old controller had), a controller
// that is down at start, and an unknown cluster. Traffic is never affected, and the
// cumulative totals arrive without loss or double counting once the controller is reachable.
import { describe, expect, it } from "vitest";
import type { TelemetryServer } from "../../controller/telemetry/index.js";
import type { ProxyWasmHost } from "../../sandbox/host/index.js";
import {
  closedAfterEach,
  controllerTotals,
  freePort,
  newHost,
  pluginConfig,
  Relay,
  sharedState,
  startServer,
  step,
  stepUntil,
} from "./harness.js";

const { hosts, servers, relays } = closedAfterEach();

/** n requests pinned to stable spread over the workers; every worker still sets the variant header. */
function driveStable(h: ProxyWasmHost, n: number): void {
  for (let i = 0; i < n; i++) {
    const w = i % h.workerCount;
    const r = h.request(
      {
        request: {
          headers: [
            [":authority", "reviews"],
            ["x-meshcanary-pin", "stable"],
          ],
        },
        response: { status: i % 10 === 0 ? 500 : 200 },
        durationNs: 3_000_000,
      },
      w,
    );
    expect(r.requestHeaders).toContainEqual(["x-meshcanary-variant", "stable"]);
  }
}

const stableRequests = (s: TelemetryServer) => controllerTotals(s, "stable").requests;

describe("controller stream outages", () => {
  it("a dropped stream loses and doubles nothing", async () => {
    const server = await startServer();
    servers.push(server);
    const relay = new Relay();
    relays.push(relay);
    await relay.start(server.port);
    const host = await newHost(relay.port, { workers: 2 });
    hosts.push(host);
    driveStable(host, 100);
    await stepUntil(host, () => stableRequests(server) === 100, "first totals");
    expect(relay.drop()).toBeGreaterThan(0);
    driveStable(host, 50);
    await stepUntil(
      host,
      () => host.logs.some((l) => l.message.includes("controller stream closed")),
      "the filter to notice",
    );
    driveStable(host, 70);
    await stepUntil(host, () => stableRequests(server) === 220, "totals after reconnect");
    for (let i = 0; i < 2; i++) await step(host);
    expect(controllerTotals(server, "stable")).toMatchObject({ requests: 220, failures: 22, status5xx: 22 });
    expect(server.stats().reporters).toBe(1);
    expect(server.stats().rejected).toEqual({});
  });

  it("a controller restart on the same port: the outage's traffic is counted once, by the new controller", async () => {
    const first = await startServer();
    servers.push(first);
    const port = first.port;
    const host = await newHost(port, { workers: 2 });
    hosts.push(host);
    driveStable(host, 100);
    await stepUntil(host, () => stableRequests(first) === 100, "first controller totals");
    // The report carrying 100 is confirmed one interval after it was sent: it becomes the baseline.
    await stepUntil(host, () => Number(sharedState(host)!.baseline[0]?.requests ?? 0) === 100, "baseline");
    await first.close();
    const countedByFirst = stableRequests(first);
    const seqAtRestart = sharedState(host)!.seq;
    driveStable(host, 30);
    await step(host);
    const second = await startServer(port);
    servers.push(second);
    // The first report on the new stream carries the baseline (100): the new controller counts the
    // outage's 30 requests, not the 100 the first controller already had, nor nothing.
    await stepUntil(host, () => stableRequests(second) === 30, "outage traffic at the restarted controller");
    driveStable(host, 40);
    await stepUntil(host, () => stableRequests(second) === 70, "new traffic at the restarted controller");
    for (let i = 0; i < 2; i++) await step(host);
    expect(countedByFirst).toBe(100);
    expect(controllerTotals(second, "stable")).toMatchObject({
      requests: 70,
      status5xx: 7,
      latencyCount: 70,
    });
    expect(stableRequests(first) + stableRequests(second)).toBe(170);
    expect(sharedState(host)!.seq).toBeGreaterThan(seqAtRestart);
    expect(Number(sharedState(host)!.totals[0]!.requests)).toBe(170);
    expect(second.stats().rejected).toEqual({});
  });

  it("a controller that is down changes nothing for traffic; counts arrive complete once it is up", async () => {
    const port = await freePort();
    const host = await newHost(port, { workers: 3 });
    hosts.push(host);
    for (let i = 0; i < 8; i++) {
      driveStable(host, 30);
      await step(host);
    }
    expect([0, 1, 2].some((w) => host.failed(w))).toBe(false);
    expect(host.logs.some((l) => l.message.includes("controller stream closed (grpc status 14)"))).toBe(true);
    const server = await startServer(port);
    servers.push(server);
    await stepUntil(
      host,
      () => stableRequests(server) === 240,
      "everything counted while the controller was down",
    );
    driveStable(host, 10);
    await stepUntil(host, () => stableRequests(server) === 250, "later traffic");
    expect(controllerTotals(server, "stable")).toMatchObject({
      requests: 250,
      status5xx: 25,
      latencyCount: 250,
    });
  });

  it("an unknown controller cluster is handled without trapping, with backoff", async () => {
    const host = await newHost(1, {
      workers: 2,
      config: pluginConfig({ cluster: "outbound|1||nowhere.svc" }),
    });
    hosts.push(host);
    for (let i = 0; i < 10; i++) {
      driveStable(host, 5);
      await step(host);
    }
    expect(host.failed(0) || host.failed(1)).toBe(false);
    const attempts = host.logs.filter((l) => l.message.includes("cannot open controller stream")).length;
    // One lease holder tries; backoff (250 ms doubling) means fewer attempts than ticks.
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThan(10);
    expect(Number(sharedState(host)!.totals[0]!.requests)).toBe(50);
  });
});
