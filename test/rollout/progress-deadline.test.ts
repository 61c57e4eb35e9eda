// The progress deadline: a step serving canary traffic with no canary requests counted for
// analysis.progressDeadline is not left at its weight (rolled back, or paused at 0% until resumed).
import { describe, expect, it } from "vitest";
import { advance } from "../../controller/rollout/advance.js";
import { planRollout } from "../../controller/rollout/plan.js";
import { stateFromStatus } from "../../controller/rollout/status.js";
import type { Observation, RolloutState } from "../../controller/rollout/types.js";
import { inconclusive, spec, T0 } from "./sim.js";

function running(onProgressDeadline?: "rollback" | "pause"): RolloutState {
  const plan = planRollout(
    spec(
      { canary: { steps: [{ weight: 10 }, { weight: 50 }] } },
      {
        minStepDuration: "30s",
        progressDeadline: "5m",
        ...(onProgressDeadline ? { onProgressDeadline } : {}),
      },
    ),
  );
  const base = stateFromStatus(plan, { revision: "r1" });
  return { ...base, phase: "Progressing", weightBp: 1000, routingVersion: 1, stepStartedAt: T0 };
}

const obs = (recent: number | undefined): Observation => ({
  revision: "r1",
  weightsApplied: { version: 1 },
  analysis: inconclusive("0 of 100 requests"),
  ...(recent === undefined ? {} : { canaryRequestsRecent: recent }),
});

describe("progress deadline", () => {
  // [case, onProgressDeadline, ms since the step started, canary requests recently, phase after, weight after]
  const table: Array<[string, "rollback" | "pause" | undefined, number, number | undefined, string, number]> =
    [
      ["before the deadline: holds", undefined, 4 * 60_000, 0, "Progressing", 1000],
      ["at the deadline with data: holds", undefined, 6 * 60_000, 3, "Progressing", 1000],
      ["at the deadline, no data: rolls back (default)", undefined, 5 * 60_000, 0, "RollingBack", 0],
      ["at the deadline, no data, pause: 0% and paused", "pause", 6 * 60_000, 0, "Paused", 0],
      ["no figure from the runner: holds", undefined, 60 * 60_000, undefined, "Progressing", 1000],
    ];
  it.each(table)("%s", (_name, on, elapsed, recent, phase, weightBp) => {
    const { state } = advance(running(on), obs(recent), T0 + elapsed);
    expect([state.phase, state.weightBp]).toEqual([phase, weightBp]);
  });

  it("defaults to 10 minutes and rollback", () => {
    const plan = planRollout(spec({ canary: { steps: [{ weight: 10 }] } }));
    expect([plan.progressDeadlineMs, plan.onProgressDeadline]).toEqual([600_000, "rollback"]);
  });

  it("resume after the deadline pause re-applies the step's weight", () => {
    const paused = advance(running("pause"), obs(0), T0 + 6 * 60_000).state;
    expect(paused.pausedBy).toBe("manual");
    const { state, actions } = advance(paused, { ...obs(0), command: "resume" }, T0 + 7 * 60_000);
    expect([state.phase, state.weightBp, state.stepStartedAt]).toEqual(["Progressing", 1000, undefined]);
    expect(actions.filter((a) => a.kind === "setWeights")).toHaveLength(1);
  });
});
