/**
 * Restarts lose nothing: stable's pre-step baseline is kept in the analysis state (status), so a
 * controller that restarts mid-step, with the windows before the step gone from memory, catches a
 * latency regression at the same tick as one that never restarted.
 */
import { describe, expect, it } from "vitest";
import {
  SIM_CANARY,
  SIM_STABLE,
  simulateWindows,
  type TrafficSpec,
} from "../../controller/analysis/simulate.js";
import { type AnalysisState, initialAnalysisState } from "../../controller/analysis/analyze.js";
import { analyseStep } from "../../controller/app/step-analysis.js";
import { planRollout } from "../../controller/rollout/plan.js";
import type { RolloutState } from "../../controller/rollout/types.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import type { TelemetryReader, WindowPoint } from "../../controller/telemetry/types.js";
import { healthySpec } from "../controller/harness.js";

const STEP_START_S = 300;
const RESTART_S = STEP_START_S + 60;
const ONSET_S = STEP_START_S + 90;
const END_S = STEP_START_S + 400;

const spec = withDefaults(
  healthySpec([10], {
    analysis: {
      minStepDuration: "1s",
      minRequests: 50,
      checks: [{ name: "p99", latency: { quantile: 0.99, maxRatio: 1.2 } }],
    },
  }) as never,
);

function traffic(seed: number, from: number, to: number, canaryMs: number, weight: number): TrafficSpec {
  return {
    seed,
    startMs: from * 1000,
    seconds: to - from,
    rps: 200,
    schedule: [{ atSecond: 0, canaryWeight: weight }],
    stable: { failureRate: 0, latencyMs: { median: 20, sigma: 0.3 } },
    canary: { failureRate: 0, latencyMs: { median: canaryMs, sigma: 0.3 } },
  };
}

/** Variant names as the controller's filter writes them. */
function renamed(ws: WindowPoint[]): WindowPoint[] {
  return ws.map((w) => ({
    startMs: w.startMs,
    variants: new Map(
      [...w.variants].map(([k, v]) => [k === SIM_CANARY ? "canary" : k === SIM_STABLE ? "stable" : k, v]),
    ),
  }));
}

const windows = renamed([
  ...simulateWindows(traffic(1, 0, STEP_START_S, 20, 0)),
  ...simulateWindows(traffic(2, STEP_START_S, ONSET_S, 20, 0.1)),
  ...simulateWindows(traffic(3, ONSET_S, END_S, 120, 0.1)), // +100 ms on the canary
]);

/** A reader holding the windows received since `fromS` (a restarted controller has only those). */
function reader(fromS: number): TelemetryReader {
  const held = windows.filter((w) => w.startMs >= fromS * 1000);
  return {
    series: (_c, from, to) => held.filter((w) => w.startMs >= from && w.startMs < to),
    routingVersions: () => new Map(),
  };
}

/** The rollout state at the analysed 10% step, started at STEP_START_S. */
function stepState(): RolloutState {
  return {
    plan: planRollout(spec),
    phase: "Progressing",
    step: 0,
    stepStartedAt: STEP_START_S * 1000,
    weightBp: 1000,
    routingVersion: 1,
    message: "",
    conditions: [],
    history: [],
  };
}

/**
 * Status as the API server keeps it: written as a JSON merge patch, where null deletes the field,
 * so a restored analysis state lacks its null fields.
 */
function asStored(state: AnalysisState): AnalysisState {
  const strip = (v: unknown): unknown =>
    v === null || typeof v !== "object" || Array.isArray(v)
      ? v
      : Object.fromEntries(
          Object.entries(v)
            .filter(([, x]) => x !== null)
            .map(([k, x]) => [k, strip(x)]),
        );
  return strip(JSON.parse(JSON.stringify(state))) as AnalysisState;
}

/**
 * Second at which the analysis first fails, ticking every second; restarting at `restartS` if
 * given; from the analysis state `initial` if given.
 */
function failAt(restartS?: number, initial?: AnalysisState): number | null {
  let state: RolloutState = {
    ...stepState(),
    ...(initial ? { analysisState: initial as unknown as Record<string, unknown> } : {}),
  };

  let r = reader(0);
  for (let t = STEP_START_S + 1; t <= END_S; t++) {
    if (t === restartS) {
      // what survives a restart: the status (JSON), and telemetry from now on
      state = JSON.parse(JSON.stringify(state)) as RolloutState;
      r = reader(restartS);
    }
    const a = analyseStep(r, "default/reviews", spec, state, t * 1000);
    if (!a) continue;
    if (a.verdict === "fail") return t;
    state = { ...state, analysisState: a.state };
  }
  return null;
}

describe("a regression after a controller restart", () => {
  it.each([{ restart: undefined }, { restart: RESTART_S }])(
    "restart at $restart s: caught, as fast as without",
    ({ restart }) => {
      const baseline = failAt();
      expect(baseline).not.toBeNull();
      expect(baseline!).toBeGreaterThan(ONSET_S);
      expect(failAt(restart)).toBe(baseline);
    },
  );

  it("from a state restored from status before any window was consumed: caught, as fast as without", () => {
    // test/mesh-e2e: Canaries the standby restored stayed at "no canary data" for good. Their state's
    // lastWindowMs (null) had been deleted by the status merge patch, and no window compared above
    // an undefined last window.
    expect(failAt(undefined, asStored(initialAnalysisState()))).toBe(failAt());
  });

  it("without the kept baseline the check is blind (the old behaviour, for contrast)", () => {
    const a = analyseStep(reader(RESTART_S), "default/reviews", spec, stepState(), END_S * 1000);
    expect(a?.verdict).toBe("inconclusive");
    expect(a?.reason).toContain("needs stable's p99 before the step");
  });
});
