/**
 * Faults inside the proxy, with the real filter and the real telemetry server: proxy restarts under
 * traffic (a new instance each time, totals continuing at the controller), worker churn (the reporter
 * lease moving from worker to worker while traffic flows, nothing counted twice), and the host's wall
 * clock jumping forward and backward (lease expiry and reconnect backoff still behave, no trap, every
 * count delivered).
 */
import { describe, expect, it } from "vitest";
import type { TelemetryServer } from "../../controller/telemetry/index.js";
import { type ClockSource, loadHost, type ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterWasm } from "../filter/filter-wasm.js";
import {
  CLUSTER,
  closedAfterEach,
  newHost,
  pluginConfig,
  sharedState,
  startServer,
  step,
  stepUntil,
  streamWorker,
} from "../stream/harness.js";
import { FaultRelay } from "../../sandbox/fault-relay.js";
import {
  closedLogs,
  complete,
  type Driven,
  driveRound,
  expectComplete,
  noWorkerFailed,
} from "./datapath-traffic.js";

const { hosts, servers, relays } = closedAfterEach();

async function server(): Promise<TelemetryServer> {
  const s = await startServer();
  servers.push(s);
  return s;
}

/** The host's tick timers, to stall a worker (Envoy: a blocked thread) and let it run again. */
interface HostInternals {
  timers: { cancelWorker(w: number): void; set(w: number, root: number, periodMs: number): void };
  workers: { rootId: number }[];
}
const internals = (h: ProxyWasmHost) => h as unknown as HostInternals;
const stall = (h: ProxyWasmHost, w: number) => internals(h).timers.cancelWorker(w);
const unstall = (h: ProxyWasmHost, w: number) =>
  internals(h).timers.set(w, internals(h).workers[w]!.rootId, 1000);

/** A wall clock the test can jump; the monotonic clock (ticks) is unaffected, as on a real host. */
class JumpingClock implements ClockSource {
  private readonly real = BigInt(Date.now()) * 1_000_000n;
  private readonly mono = process.hrtime.bigint();
  private jumpNs = 0n;
  jump(ms: number): void {
    this.jumpNs += BigInt(ms) * 1_000_000n;
  }
  realtimeNs(): bigint {
    return this.real + this.jumpNs;
  }
  monotonicNs(): bigint {
    return this.mono;
  }
}

async function hostWithClock(port: number, clock: ClockSource): Promise<ProxyWasmHost> {
  const h = await loadHost({
    module: filterWasm(),
    workers: 3,
    pluginConfig: pluginConfig(),
    clusters: { [CLUSTER]: `127.0.0.1:${port}` },
    node: { metadata: { NAME: "reviews-7d9f-abcde", NAMESPACE: "default", WORKLOAD_NAME: "reviews" } },
    timers: "manual",
    clock,
  });
  hosts.push(h);
  return h;
}

const HOUR_MS = 3_600_000;

describe("data path: proxy faults", () => {
  it("proxy restarts under traffic: a new instance each time, the controller's totals continue", async () => {
    const s = await server();
    const driven: Driven = new Map();
    const instances = new Set<string>();
    for (let life = 0; life < 3; life++) {
      const h = await newHost(s.port, { workers: 3 });
      hosts.push(h);
      instances.add(sharedState(h)!.reporter!.instanceId);
      for (let i = 0; i < 4; i++) {
        driveRound(h, 50, driven);
        await step(h);
      }
      // Envoy drains before exit: the last report of this instance reaches the controller.
      await stepUntil(h, () => complete(s, driven), `totals of life ${life}`);
      expect(noWorkerFailed(h)).toBe(true);
      await h.close();
    }
    expect(instances.size).toBe(3);
    expectComplete(s, driven);
    expect(s.stats().reporters).toBe(1);
    expect(s.stats().rejected).toEqual({});
  });

  it("worker churn: the lease moves worker to worker while traffic flows, nothing is counted twice", async () => {
    const s = await server();
    const h = await newHost(s.port, { workers: 3 });
    hosts.push(h);
    const driven: Driven = new Map();
    await stepUntil(h, () => streamWorker(h) >= 0, "a first lease holder");
    // Let the first report be confirmed delivered: before that, a new holder resends seq 1 (by
    // design, see filter/proxy-state.ts), which the controller ignores as a duplicate.
    for (let i = 0; i < 2; i++) await step(h);
    const holders = [streamWorker(h)];
    for (let move = 0; move < 4; move++) {
      const holder = holders[holders.length - 1]!;
      stall(h, holder);
      await stepUntil(
        h,
        () => {
          driveRound(h, 20, driven);
          return streamWorker(h) !== holder;
        },
        `lease move ${move}`,
        8,
      );
      holders.push(streamWorker(h));
      unstall(h, holder);
      // The old holder runs again: it sees the lease is not its own and closes its stream.
      for (let i = 0; i < 2; i++) {
        driveRound(h, 20, driven);
        await step(h);
      }
    }
    expect(new Set(holders).size).toBeGreaterThan(1);
    expect(h.logs.filter((l) => l.message.includes("reporter lease moved")).length).toBeGreaterThan(0);
    await stepUntil(h, () => complete(s, driven), "totals after churn");
    await step(h);
    expectComplete(s, driven);
    // Sequence numbers continued across holders: no duplicate or stale report was taken.
    expect(s.stats().ignored).toBe(0);
    expect(s.stats().reporters).toBe(1);
    expect(noWorkerFailed(h)).toBe(true);
  });

  it("the wall clock jumps forward an hour: no trap, one stream, counts complete", async () => {
    const s = await server();
    const clock = new JumpingClock();
    const h = await hostWithClock(s.port, clock);
    const driven: Driven = new Map();
    for (let i = 0; i < 3; i++) {
      driveRound(h, 30, driven);
      await step(h);
    }
    await stepUntil(h, () => complete(s, driven), "totals before the jump");
    clock.jump(HOUR_MS);
    for (let i = 0; i < 5; i++) {
      driveRound(h, 30, driven);
      await step(h);
    }
    await stepUntil(h, () => complete(s, driven), "totals after the forward jump");
    expectComplete(s, driven);
    expect(noWorkerFailed(h)).toBe(true);
    expect(s.stats().streams).toBe(1);
    expect(s.stats().reporters).toBe(1);
  });

  it("the wall clock jumps back an hour while the holder is stuck: another worker takes over", async () => {
    const s = await server();
    const clock = new JumpingClock();
    const h = await hostWithClock(s.port, clock);
    const driven: Driven = new Map();
    driveRound(h, 30, driven);
    await stepUntil(h, () => complete(s, driven), "first totals");
    const holder = streamWorker(h);
    stall(h, holder);
    // A stuck worker thread serves no traffic (its tallies would reach shared data on its next tick).
    const live = [0, 1, 2].filter((w) => w !== holder);
    clock.jump(-HOUR_MS);
    // The stuck holder's lease reads as an hour and 3 s away; it must not pin reporting for an hour.
    await stepUntil(
      h,
      () => {
        driveRound(h, 10, driven, live);
        return streamWorker(h) !== holder;
      },
      "another worker to take the lease",
      8,
    );
    await stepUntil(h, () => complete(s, driven), "totals after the backward jump");
    expectComplete(s, driven);
    expect(noWorkerFailed(h)).toBe(true);
  });

  it("the wall clock jumps back an hour during a reconnect backoff: the filter reconnects within the backoff cap", async () => {
    const s = await server();
    const relay = new FaultRelay(s.port);
    relays.push(relay);
    await relay.start();
    const clock = new JumpingClock();
    const h = await hostWithClock(relay.port, clock);
    const driven: Driven = new Map();
    driveRound(h, 30, driven);
    await stepUntil(h, () => complete(s, driven), "first totals");
    relay.set({ kind: "cut" });
    const closed = closedLogs(h);
    await stepUntil(h, () => closedLogs(h) > closed + 1, "failed reconnects");
    clock.jump(-HOUR_MS);
    relay.set({ kind: "pass" });
    driveRound(h, 30, driven);
    // Backoff is capped at 30 s: an hour-old retry time must not hold the reconnect for an hour.
    await stepUntil(h, () => complete(s, driven), "totals after reconnect", 40);
    expectComplete(s, driven);
    expect(noWorkerFailed(h)).toBe(true);
  });
});
