/** Scenarios (3) controller restarted mid-rollout resumes at the same step, (5) commands via the annotation. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import {
  eventsInclude,
  healthySpec,
  NS,
  startWorld,
  targetWeights,
  until,
  type World,
  type Json,
} from "./harness.js";

let world: World;
const sims: ReporterSim[] = [];

beforeAll(async () => {
  world = await startWorld(["reviews", "ratings", "details"]);
});
afterAll(async () => {
  for (const s of sims) s.close();
  await world.close();
});

function sim(port: number, canary: string) {
  const s = startReporterSim({
    address: `127.0.0.1:${port}`,
    canary: `${NS}/${canary}`,
    rps: 20_000,
    failureRate: { stable: 0.002, canary: 0.002 },
  });
  sims.push(s);
  return s;
}

async function phaseOf(name: string, phase: string, step?: number) {
  return until(`${name} in ${phase}${step === undefined ? "" : ` at step ${step}`}`, async () => {
    const c = await world.canary(name);
    return c.status?.phase === phase && (step === undefined || c.status.step === step) ? c : undefined;
  });
}

describe("controller restart", () => {
  it("resumes at the same step without repeating or skipping one", async () => {
    await world.createCanary("resume", healthySpec([10, 30, 60]));
    const first = await world.controller();
    sim(first.telemetryPort, "resume");
    await phaseOf("resume", "Progressing", 1);
    await first.close();
    const second = await world.controller();
    sim(second.telemetryPort, "resume");
    const done = await until(
      "resumed rollout to succeed",
      async () => {
        const c = await world.canary("resume");
        return c.status?.phase === "Succeeded" ? c : undefined;
      },
      25_000,
    );
    const steps = (done.status.history as Json[]).filter((h) => h.to === "Progressing").map((h) => h.step);
    expect(steps).toEqual([0, 1, 2]);
    const progressing = (await world.events("resume")).filter((e) => e.reason === "Progressing");
    expect(progressing.map((e) => e.message.match(/step (\d)\//)?.[1])).toEqual(["1", "2", "3"]);
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v2: 100 });
    await second.close();
  }, 30_000);
});

describe("commands through the annotation", () => {
  it("pauses, resumes and promotes", async () => {
    await world.controller();
    const spec = { ...healthySpec([10, 50]), host: "ratings", virtualService: { name: "ratings" } };
    await world.createCanary("commanded", { ...spec, analysis: { minStepDuration: "60s" } });
    await phaseOf("commanded", "Progressing", 0);
    await world.annotate("commanded", "pause/1");
    const paused = await phaseOf("commanded", "Paused");
    expect(paused.status.pausedBy).toBe("manual");
    expect(paused.status.lastCommand).toBe("pause/1");
    expect(paused.status.commandResult).toMatchObject({
      command: "pause/1",
      result: "Applied",
      message: "paused by operator",
    });
    await world.annotate("commanded", "resume/2");
    const resumed = await phaseOf("commanded", "Progressing");
    expect(resumed.status.pausedBy).toBeUndefined();
    expect(targetWeights(await world.vs("ratings"))).toEqual({ v1: 90, v2: 10 });
    await world.annotate("commanded", "promote-full/3");
    await phaseOf("commanded", "Succeeded");
    expect(targetWeights(await world.vs("ratings"))).toEqual({ v2: 100 });
    await world.annotate("commanded", "pause/4");
    const refused = await until("pause/4 answered", async () => {
      const c = await world.canary("commanded");
      return c.status.commandResult?.command === "pause/4" && c.status;
    });
    expect(refused.phase).toBe("Succeeded");
    expect(refused.commandResult).toMatchObject({
      result: "Refused",
      message: expect.stringContaining("pause does not apply in phase Succeeded"),
    });
    await eventsInclude(world, "commanded", ["Paused", "Progressing", "Promoting", "Succeeded"]);
  }, 30_000);

  it("aborts back to the original route, and applies each nonce once", async () => {
    const spec = { ...healthySpec([20, 50]), host: "details", virtualService: { name: "details" } };
    await world.createCanary("aborted", { ...spec, analysis: { minStepDuration: "60s" } });
    await phaseOf("aborted", "Progressing", 0);
    expect(targetWeights(await world.vs("details"))).toEqual({ v1: 80, v2: 20 });
    await world.annotate("aborted", "abort/7");
    const c = await phaseOf("aborted", "Aborted");
    expect(c.status.lastCommand).toBe("abort/7");
    const vs = await world.vs("details");
    expect((vs.spec.http as Json[]).map((r) => r.name)).toEqual(["primary"]);
    expect(targetWeights(vs)).toEqual({ v1: 100 });
    await world.annotate("aborted", "bogus/8");
    await until("InvalidCommand event", async () =>
      (await world.events("aborted")).some((e) => e.reason === "InvalidCommand"),
    );
    const aborts = (await world.events("aborted")).filter((e) => e.reason === "Aborted");
    expect(aborts.map((e) => e.count)).toEqual([1]);
  }, 30_000);
});
