import { describe, expect, it } from "vitest";
import { planRollout, toBasisPoints } from "../../controller/rollout/plan.js";
import { spec } from "./sim.js";

describe("planRollout", () => {
  it("canary: steps in basis points, hold = max(minStepDuration, pause), analysis or approval gates", () => {
    const plan = planRollout(
      spec(
        {
          canary: {
            steps: [
              { weight: 0.01 },
              { weight: 5, pause: { duration: "2m" } },
              { weight: 25, approval: true },
            ],
          },
        },
        { minStepDuration: "1m", maxStepDuration: "10m" },
      ),
    );
    expect(plan).toEqual({
      strategy: "canary",
      steps: [
        { weightBp: 1, holdMs: 60_000, gate: "analysis" },
        { weightBp: 500, holdMs: 120_000, gate: "analysis" },
        { weightBp: 2500, holdMs: 60_000, gate: "approval" },
      ],
      finish: "promote",
      maxStepMs: 600_000,
      progressDeadlineMs: 600_000,
      onProgressDeadline: "rollback",
    });
  });

  it("canary without analysis settings holds each step 30s and has no max", () => {
    const plan = planRollout(spec({ canary: { steps: [{ weight: 10 }] } }));
    expect(plan.steps).toEqual([{ weightBp: 1000, holdMs: 30_000, gate: "analysis" }]);
    expect(plan.maxStepMs).toBeUndefined();
  });

  it.each([
    [{ previewDuration: "5m" }, { weightBp: 0, holdMs: 300_000, gate: "analysis" }, 0],
    [{ approval: true }, { weightBp: 0, holdMs: 0, gate: "approval" }, 0],
    [
      { previewDuration: "1m", approval: true, scrutinyWindow: "10m" },
      { weightBp: 0, holdMs: 60_000, gate: "approval" },
      600_000,
    ],
  ])(
    "blueGreen %j previews at 0%% (analysed pins), switches in one step, then promotes",
    (blueGreen, preview, scrutinyMs) => {
      expect(planRollout(spec({ blueGreen }))).toEqual({
        strategy: "blueGreen",
        steps: [preview, { weightBp: 10000, holdMs: scrutinyMs, gate: "time" }],
        finish: "promote",
        progressDeadlineMs: 600_000,
        onProgressDeadline: "rollback",
      });
    },
  );

  it("abTest: one timed step at the split, finishing with a report", () => {
    expect(planRollout(spec({ abTest: { weight: 50, duration: "1h" } }))).toEqual({
      strategy: "abTest",
      steps: [{ weightBp: 5000, holdMs: 3_600_000, gate: "time" }],
      finish: "report",
      progressDeadlineMs: 600_000,
      onProgressDeadline: "rollback",
    });
    const early = planRollout(
      spec({ abTest: { weight: 50, duration: "1h", stopWhenConclusive: true, promote: true } }),
    );
    expect(early).toMatchObject({ stopWhenConclusive: true, promoteOnPass: true, finish: "report" });
  });

  it("shadow: a mirroring 0% step gated by analysis, then the canary steps or a report", () => {
    const alone = planRollout(spec({ shadow: { duration: "10m", mirrorPercent: 12.5 } }));
    expect(alone).toMatchObject({
      strategy: "shadow",
      steps: [{ weightBp: 0, holdMs: 600_000, gate: "analysis", mirrorBp: 1250 }],
      finish: "report",
    });
    expect(alone.unsupported).toBeUndefined();
    const then = planRollout(
      spec({ shadow: { duration: "1m", canarySteps: [{ weight: 10 }, { weight: 50, approval: true }] } }),
    );
    expect(then.steps).toEqual([
      { weightBp: 0, holdMs: 60_000, gate: "analysis", mirrorBp: 10000 },
      { weightBp: 1000, holdMs: 30_000, gate: "analysis" },
      { weightBp: 5000, holdMs: 30_000, gate: "approval" },
    ]);
    expect(then.finish).toBe("promote");
  });

  it.each([
    [0.01, 1],
    [12.34, 1234],
    [0.29, 29],
    [100, 10000],
  ])("%f%% = %i bp", (percent, bp) => {
    expect(toBasisPoints(percent)).toBe(bp);
  });
});
