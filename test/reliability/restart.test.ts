/**
 * Controller killed mid-step and restarted on the same address, with one reporter that keeps its
 * instance and cumulative totals across the restart (it reconnects, like the filter): the rollout
 * resumes at the same step, nothing is promoted twice, and the new controller takes the totals it
 * sees first as a baseline, not as a burst of traffic.
 */
import { describe, expect, it } from "vitest";
import { NS, until } from "../controller/harness.js";
import { createResumeCanary, expectResumedOnce, phaseOf, requestsPerWindow } from "./helpers.js";
import { resumeSuite } from "./resume-suite.js";

const suite = resumeSuite();

describe("controller restart mid-step", () => {
  it("resumes at the same step, promotes once, and continues tallies from cumulative totals", async () => {
    const { world } = suite;
    await createResumeCanary(world, "restart");
    const first = await suite.controller();
    const port = first.telemetryPort;
    const sim = suite.reporter("restart", [`127.0.0.1:${port}`]);
    await phaseOf(world, "restart", "Progressing", 1);
    await first.close();
    const sentBeforeRestart = sim.sent();
    const second = await suite.controller({ port });

    await until("the reporter to reconnect to the new controller", async () => sim.connections() >= 2);
    await expectResumedOnce(world, "restart", second, sentBeforeRestart);

    // The same reporter instance kept counting: its totals before the restart are history, not traffic.
    const perWindow = requestsPerWindow(second.telemetry, `${NS}/restart`);
    const before = sentBeforeRestart.stable.requests + sentBeforeRestart.canary.requests;
    const counted = perWindow.reduce((a, b) => a + b, 0);
    const sent = sim.sent();
    expect(counted).toBeLessThanOrEqual(sent.stable.requests + sent.canary.requests - before);
  }, 30_000);
});
