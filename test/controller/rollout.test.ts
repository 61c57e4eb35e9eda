/** Scenarios (1) healthy canary to Succeeded, (2) faulty canary rolled back, (4) invalid Canary. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import { healthySpec, NS, startWorld, targetWeights, until, type World, type Json } from "./harness.js";

let world: World;
let telemetry: string;
const sims: ReporterSim[] = [];

beforeAll(async () => {
  world = await startWorld(["reviews", "ratings", "details"]);
  const c = await world.controller();
  telemetry = `127.0.0.1:${c.telemetryPort}`;
});
afterAll(async () => {
  for (const s of sims) s.close();
  await world.close();
});

function sim(canary: string, failureRate: { stable: number; canary: number }) {
  const s = startReporterSim({
    address: telemetry,
    canary: `${NS}/${canary}`,
    rps: 20_000,
    failureRate,
    intervalMs: 200,
  });
  sims.push(s);
  return s;
}

describe("controller rollout", () => {
  it("walks a healthy canary through every step to Succeeded", async () => {
    await world.createCanary("healthy", healthySpec([10, 50]));
    const reporter = sim("healthy", { stable: 0.002, canary: 0.002 });
    const seenVs = new Set<number>();
    const seenDirective = new Set<number>();
    const done = await until(
      "healthy canary to succeed",
      async () => {
        const vs = await world.vs("reviews");
        const w = targetWeights(vs);
        if (w.v2 !== undefined) seenVs.add(w.v2);
        seenDirective.add(reporter.canaryWeightBp());
        const c = await world.canary("healthy");
        return c.status?.phase === "Succeeded" ? c : undefined;
      },
      25_000,
    );
    expect(seenVs.has(10)).toBe(true);
    expect(seenVs.has(50)).toBe(true);
    expect(seenDirective.has(1000)).toBe(true);
    expect(seenDirective.has(5000)).toBe(true);
    expect(reporter.canaryWeightBp()).toBe(10000);
    // Succeeded: the target route sends everything to the canary subset, our routes are gone.
    const vs = await world.vs("reviews");
    expect(targetWeights(vs)).toEqual({ v2: 100 });
    expect((vs.spec.http as Json[]).filter((r) => r.name?.startsWith("meshcanary-"))).toEqual([]);
    const phases = (done.status.history as Json[]).map((h) => `${h.to}@${h.step}`);
    expect(phases).toEqual(["Progressing@0", "Progressing@1", "Promoting@1", "Succeeded@1"]);
    const reasons = (await world.events("healthy")).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Progressing", "Promoting", "Succeeded"]));
  }, 30_000);

  it("rolls a faulty canary back to 100% stable", async () => {
    const spec = healthySpec([20, 50]);
    await world.createCanary("faulty", {
      ...spec,
      host: "ratings",
      virtualService: { name: "ratings" },
      // The simulated reporter draws every request independently: one-second blocks are its honest
      // unit (the 10-s default guards real traffic's retries and pod bursts, at ~6 blocks to decide).
      analysis: { ...spec.analysis, blockDuration: "1s" },
    });
    const reporter = sim("faulty", { stable: 0.02, canary: 0.2 });
    const done = await until("faulty canary to roll back", async () => {
      const c = await world.canary("faulty");
      return c.status?.phase === "RolledBack" ? c : undefined;
    });
    expect(done.status.weightBp).toBe(0);
    expect(done.status.lastDecision.action).toBe("rollback");
    const vs = await world.vs("ratings");
    expect(targetWeights(vs)).toEqual({ v1: 100 });
    expect((vs.spec.http as Json[]).map((r) => r.name)).toEqual(["primary"]);
    await until(
      "the last Directive at 0% canary",
      async () => reporter.canaryWeightBp() === 0 && reporter.directives.length > 1,
    );
    const last = reporter.directives.at(-1)!;
    const route = last.routes.find((r) => r.canary === `${NS}/faulty`)!;
    expect(route.variants.map((v) => [v.name, v.weightBp])).toEqual([
      ["stable", 10000],
      ["canary", 0],
    ]);
    const reasons = (await world.events("faulty")).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["RollingBack", "RolledBack"]));
  }, 30_000);

  it("reports an invalid Canary with every field path and leaves the VirtualService alone", async () => {
    const before = await world.vs("details");
    const spec = { ...healthySpec([150]), host: "details", virtualService: { name: "details" }, stable: {} };
    await world.createCanary("invalid", spec);
    const c = await until("InvalidSpec condition", async () => {
      const c = await world.canary("invalid");
      return c.status?.conditions?.some((x: Json) => x.reason === "InvalidSpec") ? c : undefined;
    });
    const ready = (c.status.conditions as Json[]).find((x) => x.type === "Ready");
    expect(ready.status).toBe("False");
    expect(ready.message).toContain("spec.stable.subset");
    expect(ready.message).toContain("spec.strategy.canary.steps[0].weight");
    expect(c.status.phase).toBeUndefined();
    const after = await world.vs("details");
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const events = await world.events("invalid");
    expect(events.map((e) => e.reason)).toContain("InvalidSpec");
  }, 30_000);
});
