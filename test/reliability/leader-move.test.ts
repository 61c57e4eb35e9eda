/**
 * Leadership moved to a second replica mid-rollout (the leader is closed): the reporter, which tries
 * both replicas in turn like filters behind one Service, ends up on the new leader with its cumulative
 * totals; the rollout resumes at the same step and each step and the promotion happen once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningController } from "../../controller/app/controller.js";
import type { ReporterSim } from "../../sandbox/reporter-sim.js";
import { startWorld, until, type World } from "../controller/harness.js";
import {
  createResumeCanary,
  expectResumedOnce,
  startControllerIn,
  startResumeReporter,
  phaseOf,
} from "./helpers.js";

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
    await createResumeCanary(world, "moved");
    sim = startResumeReporter("moved", [`127.0.0.1:${a.telemetryPort}`, `127.0.0.1:${b.telemetryPort}`]);
    await phaseOf(world, "moved", "Progressing", 1);
    expect(b.isLeader()).toBe(false);
    await a.close();
    const sentBefore = sim.sent();
    await until("b to take over", async () => b.isLeader(), 10_000);
    await expectResumedOnce(world, "moved", b, sentBefore);
  }, 30_000);
});
