/**
 * A new Canary's first step has no stable figures from before it (the filter had no route for the
 * canary yet): the ratio thresholds then come from stable's first IN_STEP_BASELINE_MS of the step,
 * and only the windows after it are judged, so a regression is still caught instead of the check
 * waiting forever for a baseline.
 */
import { describe, expect, it } from "vitest";
import { SIM_CANARY, SIM_STABLE, simulateWindows } from "../../controller/analysis/simulate.js";
import { analyseStep, IN_STEP_BASELINE_MS } from "../../controller/app/step-analysis.js";
import { planRollout } from "../../controller/rollout/plan.js";
import type { RolloutState } from "../../controller/rollout/types.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import type { TelemetryReader, WindowPoint } from "../../controller/telemetry/types.js";
import { healthySpec } from "../controller/harness.js";

const START_S = 100;
const spec = withDefaults(
  healthySpec([10], {
    analysis: {
      minStepDuration: "1s",
      minRequests: 50,
      checks: [{ name: "p99", latency: { quantile: 0.99, maxRatio: 1.2 } }],
    },
  }) as never,
);

function windows(canaryMs: number): WindowPoint[] {
  const ws = simulateWindows({
    seed: 7,
    startMs: START_S * 1000,
    seconds: 300,
    rps: 200,
    schedule: [{ atSecond: 0, canaryWeight: 0.1 }],
    stable: { failureRate: 0, latencyMs: { median: 20, sigma: 0.3 } },
    canary: { failureRate: 0, latencyMs: { median: canaryMs, sigma: 0.3 } },
  });
  const name = (k: string) => (k === SIM_CANARY ? "canary" : k === SIM_STABLE ? "stable" : k);
  return ws.map((w) => ({
    startMs: w.startMs,
    variants: new Map([...w.variants].map(([k, v]) => [name(k), v])),
  }));
}

function run(canaryMs: number): { firstAt: number | null; verdict: string } {
  const held = windows(canaryMs); // nothing before the step
  const reader: TelemetryReader = {
    series: (_c, from, to) => held.filter((w) => w.startMs >= from && w.startMs < to),
    routingVersions: () => new Map(),
  };
  let state: RolloutState = {
    plan: planRollout(spec),
    phase: "Progressing",
    step: 0,
    stepStartedAt: START_S * 1000,
    weightBp: 1000,
    routingVersion: 1,
    message: "",
    conditions: [],
    history: [],
  };
  let firstAt: number | null = null;
  let verdict = "none";
  for (let t = START_S + 1; t <= START_S + 300; t++) {
    const a = analyseStep(reader, "default/reviews", spec, state, t * 1000);
    if (!a) continue;
    firstAt ??= t;
    verdict = a.verdict;
    if (a.verdict !== "inconclusive") break;
    state = { ...state, analysisState: a.state };
  }
  return { firstAt, verdict };
}

describe("first step without a pre-step baseline", () => {
  it("judges only after stable's first seconds, then catches a 2x slower canary", () => {
    const r = run(40);
    expect(r.firstAt).toBeGreaterThan(START_S + IN_STEP_BASELINE_MS / 1000);
    expect(r.verdict).toBe("fail");
  });

  it("passes a canary like stable", () => {
    expect(run(20).verdict).toBe("pass");
  });
});
