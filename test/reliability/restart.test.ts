/**
 * Controller killed mid-step and restarted on the same address, with one reporter that keeps its
 * instance and cumulative totals across the restart (it reconnects, like the filter): the rollout
 * resumes at the same step, nothing is promoted twice, and the new controller takes the totals it
 * sees first as a baseline, not as a burst of traffic.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningController } from "../../controller/app/controller.js";
import type { ReporterSim } from "../../sandbox/reporter-sim.js";
import { NS, startWorld, until, type World } from "../controller/harness.js";
import {
  createResumeCanary,
  expectResumedOnce,
  requestsPerWindow,
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

describe("controller restart mid-step", () => {
  it("resumes at the same step, promotes once, and continues tallies from cumulative totals", async () => {
    await createResumeCanary(world, "restart");
    const first = await startControllerIn(world);
    controllers.push(first);
    const port = first.telemetryPort;
    sim = startResumeReporter("restart", [`127.0.0.1:${port}`]);
    await phaseOf(world, "restart", "Progressing", 1);
    await first.close();
    const sentBeforeRestart = sim.sent();
    const second = await startControllerIn(world, { port });
    controllers.push(second);

    await until("the reporter to reconnect to the new controller", async () => sim!.connections() >= 2);
    await expectResumedOnce(world, "restart", second, sentBeforeRestart);

    // The same reporter instance kept counting: its totals before the restart are history, not traffic.
    const perWindow = requestsPerWindow(second.telemetry, `${NS}/restart`);
    const before = sentBeforeRestart.stable.requests + sentBeforeRestart.canary.requests;
    const counted = perWindow.reduce((a, b) => a + b, 0);
    const sent = sim.sent();
    expect(counted).toBeLessThanOrEqual(sent.stable.requests + sent.canary.requests - before);
  }, 30_000);
});
