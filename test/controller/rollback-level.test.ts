/**
 * The rollback level every view prints (CLI, demo, dashboard) is the one the analysis judges by:
 * 1 / (alpha split over the tests and steps), recorded with each check's e-value.
 */
import { describe, expect, it } from "vitest";
import { SIM_CANARY, SIM_STABLE, simulateWindows } from "../../controller/analysis/simulate.js";
import { analyseStep } from "../../controller/app/step-analysis.js";
import { checkFigures } from "../../controller/cli/format-status.js";
import { planRollout } from "../../controller/rollout/plan.js";
import type { AnalysisResult, RolloutState } from "../../controller/rollout/types.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import type { TelemetryReader } from "../../controller/telemetry/types.js";
import { healthySpec } from "./harness.js";

const spec = withDefaults(
  healthySpec([10, 50, 100], {
    analysis: { minStepDuration: "1s", minRequests: 50, alpha: 0.01 },
  }) as never,
);

function failingAnalysis(): AnalysisResult {
  const ws = simulateWindows({
    seed: 3,
    startMs: 0,
    seconds: 300,
    rps: 400,
    schedule: [{ atSecond: 0, canaryWeight: 0.1 }],
    stable: { failureRate: 0.005, latencyMs: { median: 20, sigma: 0.3 } },
    canary: { failureRate: 0.1, latencyMs: { median: 20, sigma: 0.3 } },
  }).map((w) => ({
    startMs: w.startMs,
    variants: new Map(
      [...w.variants].map(([k, v]) => [k === SIM_CANARY ? "canary" : k === SIM_STABLE ? "stable" : k, v]),
    ),
  }));
  const reader: TelemetryReader = {
    series: (_c, from, to) => ws.filter((w) => w.startMs >= from && w.startMs < to),
    routingVersions: () => new Map(),
  };
  let state: RolloutState = {
    plan: planRollout(spec),
    phase: "Progressing",
    step: 0,
    stepStartedAt: 0,
    weightBp: 1000,
    routingVersion: 1,
    message: "",
    conditions: [],
    history: [],
  };
  for (let t = 1; t <= 300; t++) {
    const a = analyseStep(reader, "default/reviews", spec, state, t * 1000);
    if (!a) continue;
    if (a.verdict === "fail") return a;
    state = { ...state, analysisState: a.state };
  }
  throw new Error("no fail verdict in 300 s");
}

describe("rollback level", () => {
  it("is recorded with each check's e-value as the analysis's own level, and printed as such", () => {
    const a = failingAnalysis();
    const tests = Number(/alpha 0\.01 split over (\d+) test\(s\) x 3 step\(s\)/.exec(a.reason)?.[1]);
    expect(tests).toBeGreaterThan(0);
    const level = (tests * 3) / 0.01;
    expect(a.rollbackAt).toBeCloseTo(level, 6);
    const failed = a.checks.find((c) => c.verdict === "fail") as unknown as {
      eValue: number;
      rollbackAt: number;
    };
    expect(failed.rollbackAt).toBeCloseTo(level, 6);
    expect(failed.eValue).toBeGreaterThanOrEqual(failed.rollbackAt);
    // Not 1/alpha (100×): the level the e-value actually had to reach.
    const [, evidence] = checkFigures(failed, 1 / 0.01);
    expect(evidence).toMatch(new RegExp(`\\(rollback at ${Math.round(level)}×\\)$`));
  });
});
