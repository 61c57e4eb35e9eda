/**
 * Leadership moved to a second replica mid-rollout (the leader is closed): the reporter, which tries
 * both replicas in turn like filters behind one Service, ends up on the new leader with its cumulative
 * totals; the rollout resumes at the same step and each step and the promotion happen once.
 */
import { describe, expect, it } from "vitest";
import { until } from "../controller/harness.js";
import { createResumeCanary, expectResumedOnce, phaseOf } from "./helpers.js";
import { resumeSuite } from "./resume-suite.js";

const suite = resumeSuite();

describe("leadership moves to the second replica", () => {
  it("resumes at the same step with no double promotion and no burst of old totals", async () => {
    const { world } = suite;
    const a = await suite.controller({ leaderElection: true, identity: "a" });
    await until("a to lead", async () => a.isLeader());
    const b = await suite.controller({ leaderElection: true, identity: "b" });
    await createResumeCanary(world, "moved");
    const sim = suite.reporter("moved", [`127.0.0.1:${a.telemetryPort}`, `127.0.0.1:${b.telemetryPort}`]);
    await phaseOf(world, "moved", "Progressing", 1);
    expect(b.isLeader()).toBe(false);
    await a.close();
    const sentBefore = sim.sent();
    await until("b to take over", async () => b.isLeader(), 10_000);
    await expectResumedOnce(world, "moved", b, sentBefore);
  }, 30_000);
});
