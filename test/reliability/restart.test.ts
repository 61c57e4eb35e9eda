/**
 * Controller killed mid-step and restarted on the same address, with one reporter that keeps its
 * instance and cumulative totals across the restart (it reconnects, like the filter): the rollout
 * resumes at the same step, nothing is promoted twice, and the new controller takes the totals it
 * sees first as a baseline, not as a burst of traffic.
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

describe("controller restart mid-step", () => {
  it("resumes at the same step, promotes once, and continues tallies from cumulative totals", async () => {
    await world.createCanary(
      "restart",
      healthySpec([10, 30, 60], { analysis: { minStepDuration: "2s", minRequests: 50 } }),
    );
    const first = await startControllerIn(world);
    controllers.push(first);
    const port = first.telemetryPort;
    sim = startReporterSim({
      address: `127.0.0.1:${port}`,
      canary: `${NS}/restart`,
      rps: RPS,
      failureRate: { stable: 0.002, canary: 0.002 },
      reconnectMs: 100,
    });
    await phaseOf(world, "restart", "Progressing", 1);
    await first.close();
    const sentBeforeRestart = sim.sent();
    const second = await startControllerIn(world, { port });
    controllers.push(second);

    await until("the reporter to reconnect to the new controller", async () => sim!.connections() >= 2);
    const done = await phaseOf(world, "restart", "Succeeded", undefined, 25_000);
    await expectEachStepOnce(world, "restart", done, 3);
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v2: 100 });

    // The same reporter instance kept counting: its totals before the restart are history, not traffic.
    const perWindow = requestsPerWindow(second.telemetry, `${NS}/restart`);
    expect(perWindow.length).toBeGreaterThan(2);
    const before = sentBeforeRestart.stable.requests + sentBeforeRestart.canary.requests;
    expect(before).toBeGreaterThan(3 * RPS);
    // One 1-s window holds ~RPS; a baseline mistaken for traffic would put all `before` in one window.
    expect(Math.max(...perWindow)).toBeLessThan(2 * RPS);
    const counted = perWindow.reduce((a, b) => a + b, 0);
    const sent = sim.sent();
    expect(counted).toBeLessThanOrEqual(sent.stable.requests + sent.canary.requests - before);
  }, 30_000);
});
