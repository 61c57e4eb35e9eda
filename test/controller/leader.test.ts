/** Scenario (6): two controllers with leader election; only the leader acts, the other takes over on close. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import { healthySpec, NS, startWorld, until, type World, type Json } from "./harness.js";

let world: World;
const sims: ReporterSim[] = [];

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  for (const s of sims) s.close();
  await world.close();
});

function sim(port: number) {
  const s = startReporterSim({
    address: `127.0.0.1:${port}`,
    canary: `${NS}/ha`,
    rps: 20_000,
    failureRate: { stable: 0.05, canary: 0.05 },
  });
  sims.push(s);
  return s;
}

describe("leader election", () => {
  it("lets only the leader act and hands over when it closes", async () => {
    const a = await world.controller({ leaderElection: true, identity: "a" });
    await until("a to lead", async () => a.isLeader());
    const b = await world.controller({ leaderElection: true, identity: "b" });
    await world.createCanary("ha", { ...healthySpec([10, 50]), analysis: { minStepDuration: "60s" } });
    await until("ha to progress", async () => (await world.canary("ha")).status?.phase === "Progressing");
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(b.reconciler.get(`${NS}/ha`)?.state).toBeUndefined();
    // The follower refuses telemetry streams so filters reconnect to the leader.
    const refused = sim(b.telemetryPort);
    const ended = await until("follower to refuse the stream", async () => refused.ended());
    expect(ended.code).toBe(14); // UNAVAILABLE
    const accepted = sim(a.telemetryPort);
    await until("the leader to send a Directive", async () => accepted.directives.length > 0);
    expect(accepted.ended()).toBeUndefined();

    await a.close();
    await until("b to take over", async () => b.isLeader(), 10_000);
    await world.annotate("ha", "promote-full/1");
    const c = await until("b to promote", async () => {
      const c = await world.canary("ha");
      return c.status?.phase === "Succeeded" ? c : undefined;
    });
    expect(c.status.lastCommand).toBe("promote-full/1");
    const steps = (c.status.history as Json[]).map((h) => `${h.to}@${h.step}`);
    expect(steps).toEqual(["Progressing@0", "Promoting@0", "Succeeded@0"]);
  }, 30_000);
});
