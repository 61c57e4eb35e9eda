/**
 * Leadership moved to a second replica mid-rollout (the leader is closed): the reporter, which tries
 * both replicas in turn like filters behind one Service, ends up on the new leader with its cumulative
 * totals; the rollout resumes at the same step and each step and the promotion happen once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningController } from "../../controller/app/controller.js";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import { healthySpec, NS, startWorld, targetWeights, until, type World } from "../controller/harness.js";
import { expectEachStepOnce, phaseOf, requestsPerWindow, startControllerIn } from "./helpers.js";

const RPS = 2000;
let world: World;
let sim: ReporterSim | undefined;
const controllers: RunningController[] = [];

beforeAll(async () => {
  world = await startWorld(["reviews"]);
});
afterAll(async () => {
  sim?.close();
  for (const c of controllers) await c.close();
  await world.close();
});

describe("leadership moves to the second replica", () => {
  it("resumes at the same step with no double promotion and no burst of old totals", async () => {
    const a = await startControllerIn(world, { leaderElection: true, identity: "a" });
    controllers.push(a);
    await until("a to lead", async () => a.isLeader());
    const b = await startControllerIn(world, { leaderElection: true, identity: "b" });
    controllers.push(b);
    await world.createCanary(
      "moved",
      healthySpec([10, 30, 60], { analysis: { minStepDuration: "2s", minRequests: 50 } }),
    );
    sim = startReporterSim({
      address: `127.0.0.1:${a.telemetryPort}`,
      moreAddresses: [`127.0.0.1:${b.telemetryPort}`],
      canary: `${NS}/moved`,
      rps: RPS,
      failureRate: { stable: 0.002, canary: 0.002 },
      reconnectMs: 100,
    });
    await phaseOf(world, "moved", "Progressing", 1);
    expect(b.isLeader()).toBe(false);
    await a.close();
    const sentBefore = sim.sent();
    await until("b to take over", async () => b.isLeader(), 10_000);

    const done = await phaseOf(world, "moved", "Succeeded", undefined, 25_000);
    await expectEachStepOnce(world, "moved", done, 3);
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v2: 100 });

    const perWindow = requestsPerWindow(b.telemetry, `${NS}/moved`);
    expect(perWindow.length).toBeGreaterThan(2);
    expect(sentBefore.stable.requests + sentBefore.canary.requests).toBeGreaterThan(3 * RPS);
    expect(Math.max(...perWindow)).toBeLessThan(2 * RPS);
  }, 30_000);
});
