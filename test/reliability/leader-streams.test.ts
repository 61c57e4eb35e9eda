/**
 * Two controller replicas behind one Service and the real filter (compiled .wasm in the sandbox
 * host, real gRPC; each stream goes to the next replica, as Envoy balances a cluster's endpoints):
 * when leadership moves, the old leader ends every telemetry stream it held, every filter lands on
 * the new leader, and the two replicas count each request exactly once between them, also when
 * leadership comes back to the first.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningController } from "../../controller/app/controller.js";
import type { TelemetryReader } from "../../controller/telemetry/types.js";
import type { ProxyWasmHost } from "../../sandbox/host/index.js";
import { healthySpec, NS, startWorld, until, type World } from "../controller/harness.js";
import {
  CANARY,
  controllerTotals,
  drive,
  emptyTotals,
  newHost,
  sharedState,
  step,
  type Totals,
  waitFor,
} from "../stream/harness.js";
import { phaseOf, startControllerIn } from "./helpers.js";

const VARIANTS = ["stable", "canary"] as const;
type Variant = (typeof VARIANTS)[number];
const LEASE = "meshcanary-controller";

let world: World;
const controllers: RunningController[] = [];
const hosts: ProxyWasmHost[] = [];

beforeAll(async () => {
  world = await startWorld(["reviews"]);
});
afterAll(async () => {
  for (const h of hosts) await h.close();
  for (const c of controllers) await c.close();
  await world.close();
});

function noTotals(): Record<Variant, Totals> {
  return { stable: emptyTotals(), canary: emptyTotals() };
}

/** Requests driven so far (the ground truth), by variant. */
const driven = noTotals();

/** n requests per variant through `h`, every 5th answered 500, added to `truth`. */
function traffic(h: ProxyWasmHost, n: number, truth = driven): void {
  for (const variant of VARIANTS) {
    for (let i = 0; i < n; i++) {
      const status = i % 5 === 0 ? 500 : 200;
      drive(h, i % h.workerCount, variant, status, 3_000_000);
      const d = truth[variant];
      d.requests++;
      d.latencyCount++;
      if (status === 500) {
        d.status5xx++;
        d.failures++;
      } else d.status2xx++;
    }
  }
}

/** What one replica counted for the canary, by variant (its windows, summed). */
function counted(reader: TelemetryReader): Record<Variant, Totals> {
  return {
    stable: controllerTotals({ reader }, "stable"),
    canary: controllerTotals({ reader }, "canary"),
  };
}

function sum(x: Record<Variant, Totals>, y: Record<Variant, Totals>): Record<Variant, Totals> {
  const add = (p: Totals, q: Totals): Totals => ({
    requests: p.requests + q.requests,
    failures: p.failures + q.failures,
    status2xx: p.status2xx + q.status2xx,
    status5xx: p.status5xx + q.status5xx,
    statusNone: p.statusNone + q.statusNone,
    latencyCount: p.latencyCount + q.latencyCount,
  });
  return { stable: add(x.stable, y.stable), canary: add(x.canary, y.canary) };
}

/** Hands the Lease to `holder` (as if the leader's renewals stopped reaching the API while its gRPC stayed up). */
async function giveLease(holder: string): Promise<void> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/${world.leaseNamespace}/leases/${LEASE}`;
  await until(`the Lease written for ${holder}`, async () => {
    const lease = await world.req("GET", path);
    if (lease.status !== 200) return false;
    const renewTime = new Date().toISOString().replace("Z", "000Z");
    const spec = { ...lease.body.spec, holderIdentity: holder, renewTime, leaseDurationSeconds: 30 };
    return (await world.req("PUT", path, { ...lease.body, spec })).status === 200;
  });
}

const closedStreams = (h: ProxyWasmHost) =>
  h.logs.filter((l) => l.message.includes("controller stream closed")).length;

/**
 * One report interval on each host. A host that sent a report waits until it was answered: counted
 * by `leader`, or its stream ended (a non-leader refused or drained it). A stream end arriving after
 * the host's next interval would make the filter take the refused report as delivered: in
 * production an interval is a second of real time, here 25 ms of it.
 */
async function stepAll(list: ProxyWasmHost[], leader: RunningController): Promise<void> {
  for (const h of list) {
    const closed = closedStreams(h);
    const seq = sharedState(h)?.seq;
    const reports = leader.telemetryStats().reports;
    await step(h);
    const sent = sharedState(h)?.seq;
    // seq stays 1 until a first report is confirmed, so a first report cannot be told from none.
    if (sent === seq && sent !== 1n) continue;
    const answered = () => closedStreams(h) > closed || leader.telemetryStats().reports > reports;
    await waitFor(answered, "the report answered", 2_000).catch(() => undefined);
  }
}

/** Steps `list` until cond holds (bounded). */
async function stepAllUntil(
  list: ProxyWasmHost[],
  leader: RunningController,
  cond: () => boolean,
  what: string,
  max = 60,
): Promise<void> {
  for (let i = 0; i < max && !cond(); i++) await stepAll(list, leader);
  if (!cond()) throw new Error(`not reached within ${max} intervals: ${what}`);
}

describe("leadership moves between two live replicas", () => {
  it("the old leader ends its streams and the two count every request exactly once, there and back", async () => {
    const a = await startControllerIn(world, {
      leaderElection: true,
      identity: "a",
      leaseDurationSeconds: 30,
      streamGraceMs: 0,
    });
    controllers.push(a);
    await until("a to lead", async () => a.isLeader());
    const b = await startControllerIn(world, {
      leaderElection: true,
      identity: "b",
      leaseDurationSeconds: 30,
      streamGraceMs: 0,
    });
    controllers.push(b);
    await world.createCanary("reviews", healthySpec([10, 50], { analysis: { minStepDuration: "1h" } }));
    await phaseOf(world, "reviews", "Progressing", 0);
    expect(CANARY).toBe(`${NS}/reviews`);

    const endpoints = `127.0.0.1:${a.telemetryPort},127.0.0.1:${b.telemetryPort}`;
    for (let i = 0; i < 3; i++) hosts.push(await newHost(0, { workers: 2, pod: `reviews-${i}`, endpoints }));
    const [p0, p1] = hosts as [ProxyWasmHost, ProxyWasmHost];

    // A leads: every filter ends up on A (a stream sent to B is refused and retried).
    for (const h of hosts) traffic(h, 20);
    await stepAllUntil(
      hosts,
      a,
      () =>
        a.telemetryStats().streams === 3 && counted(a.telemetry).stable.requests === driven.stable.requests,
      "every filter on A, and A counts all",
    );
    // Two quiet intervals: each filter's last report to A is confirmed delivered (its baseline).
    for (let i = 0; i < 2; i++) await stepAll(hosts, a);
    expect(counted(a.telemetry)).toEqual(driven);

    // Traffic, of which A gets p0's share in a report that p0 has not yet seen confirmed (one
    // interval, no more), then the Lease goes to B while A's streams stay up.
    for (const h of hosts) traffic(h, 15);
    await stepAll([p0], a);
    await giveLease("b");
    await until("b leads and a stopped", async () => b.isLeader() && !a.isLeader(), 10_000);
    const lostAt = Date.now();
    const byA = counted(a.telemetry);
    expect(byA.stable.requests).toBeGreaterThan(3 * 20);

    // p0 and p1 report: A ends each stream at that report, without counting it. The third stays silent:
    // A ends its stream once it was silent for twice its gap between reports (1 s here).
    await stepAll([p0, p1], b);
    await until("A holds no stream", async () => a.telemetryStats().streams === 0, 5_000);
    const heldMs = Date.now() - lostAt;
    await stepAllUntil(hosts, b, () => b.telemetryStats().streams === 3, "every filter on B");
    for (const h of hosts) traffic(h, 10);
    await stepAllUntil(
      hosts,
      b,
      () => counted(b.telemetry).canary.requests + byA.canary.requests >= driven.canary.requests,
      "B counts the rest",
    );
    for (let i = 0; i < 2; i++) await stepAll(hosts, b);
    expect(counted(a.telemetry)).toEqual(byA);
    const byB = counted(b.telemetry);
    expect(byB.stable.requests).toBeGreaterThanOrEqual(2 * 25 + 10);
    expect(sum(byA, byB)).toEqual(driven);
    expect(b.telemetryStats().reporters).toBe(3);

    // And back to A: B ends its streams, A (which forgot its reporters when it stopped leading)
    // counts each filter from the baseline its new stream carries, past what B counted.
    for (const h of hosts) traffic(h, 12);
    await giveLease("a");
    await until("a leads again", async () => a.isLeader() && !b.isLeader(), 10_000);
    const byB2 = counted(b.telemetry);
    await stepAllUntil(hosts, a, () => a.telemetryStats().streams === 3, "every filter back on A");
    expect(b.telemetryStats().streams).toBe(0);
    for (const h of hosts) traffic(h, 8);
    await stepAllUntil(
      hosts,
      a,
      () => sum(counted(a.telemetry), byB2).stable.requests >= driven.stable.requests,
      "A counts the rest",
    );
    for (let i = 0; i < 2; i++) await stepAll(hosts, a);
    expect(counted(b.telemetry)).toEqual(byB2);
    expect(sum(counted(a.telemetry), byB2)).toEqual(driven);
    for (const c of [a, b]) {
      const s = c.telemetryStats();
      expect(s.rejected).toEqual({});
      expect(s.droppedEntries).toEqual({});
    }
    console.log(JSON.stringify({ heldMs, driven: driven.stable.requests + driven.canary.requests }));
  }, 90_000);

  it("a Lease lost for less than streamGraceMs moves no filter, and the replica counts every request", async () => {
    for (const h of hosts.splice(0)) await h.close();
    for (const c of controllers.splice(0)) await c.close();
    const GRACE_MS = 6000;
    const c = await startControllerIn(world, {
      leaderElection: true,
      identity: "c",
      leaseDurationSeconds: 30,
      streamGraceMs: GRACE_MS,
    });
    controllers.push(c);
    await giveLease("c");
    await until("c to lead", async () => c.isLeader(), 10_000);
    const d = await startControllerIn(world, {
      leaderElection: true,
      identity: "d",
      leaseDurationSeconds: 30,
      streamGraceMs: GRACE_MS,
    });
    controllers.push(d);
    const endpoints = `127.0.0.1:${c.telemetryPort},127.0.0.1:${d.telemetryPort}`;
    const mine: ProxyWasmHost[] = [];
    for (let i = 0; i < 2; i++) mine.push(await newHost(0, { workers: 2, pod: `reviews-g${i}`, endpoints }));
    hosts.push(...mine);
    const truth = noTotals();
    for (const h of mine) traffic(h, 20, truth);
    await stepAllUntil(
      mine,
      c,
      () =>
        c.telemetryStats().streams === 2 && counted(c.telemetry).stable.requests === truth.stable.requests,
      "every filter on C, and C counts all",
    );
    const closedBefore = mine.map(closedStreams);

    // The blip: D holds the Lease for a moment (C's renewals failing), then C has it again.
    await giveLease("d");
    await until("d leads and c stopped", async () => d.isLeader() && !c.isLeader(), 10_000);
    const lostAt = Date.now();
    for (const h of mine) traffic(h, 10, truth);
    await stepAll(mine, c);
    await giveLease("c");
    await until("c leads again", async () => c.isLeader() && !d.isLeader(), 10_000);
    const awayMs = Date.now() - lostAt;
    expect(awayMs, "the blip must be shorter than the grace for this test to mean anything").toBeLessThan(
      GRACE_MS / 2,
    );

    // Past the end of the grace the lost lease would have drained C: nothing was ended, no filter
    // went to D, and C counted every request, the blip's included.
    for (const h of mine) traffic(h, 5, truth);
    while (Date.now() < lostAt + GRACE_MS + 1000) await stepAll(mine, c);
    await stepAllUntil(
      mine,
      c,
      () => counted(c.telemetry).canary.requests === truth.canary.requests,
      "C counts the rest",
    );
    expect(mine.map(closedStreams)).toEqual(closedBefore);
    expect(c.telemetryStats().streams).toBe(2);
    expect(d.telemetryStats().streams).toBe(0);
    expect(counted(c.telemetry)).toEqual(truth);
    expect(counted(d.telemetry)).toEqual(noTotals());
  }, 90_000);
});
