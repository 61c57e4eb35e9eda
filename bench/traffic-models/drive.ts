/**
 * Drives one simulated rollout through the controller's own analysis path: every second the
 * world's pods report into `Windows`, and `analyseStep` (what the reconciler calls each tick) judges
 * the step from the windows since the step began, resuming the state it returned last tick; a new
 * step starts with fresh analysis state, as `advance` does. Steps follow a fixed schedule (a pass
 * does not end a step early), so every step is looked at for its whole length: the worst case for
 * false rollbacks. Beside it, a Flagger-style rule on the same windows.
 */

import type { AnalysisState } from "../../controller/analysis/analyze.js";
import { slowThresholds } from "../../controller/analysis/slow-thresholds.js";
import { toAnalysisChecks } from "../../controller/app/analysis-checks.js";
import { analyseStep, CANARY, STABLE } from "../../controller/app/step-analysis.js";
import { planRollout } from "../../controller/rollout/plan.js";
import type { RolloutState } from "../../controller/rollout/types.js";
import { type SpecWithDefaults, withDefaults } from "../../controller/spec/defaults.js";
import type { AnalysisCheck, CanarySpec } from "../../controller/spec/schema.js";
import { emptySketch, mergeInto, quantile } from "../../controller/telemetry/sketch.js";
import type { TelemetryReader, WindowPoint } from "../../controller/telemetry/types.js";
import { type Phase, World, type WorldSpec } from "./world.js";

/** A rollout: stable-only warm-up, then weight steps of equal length. */
export interface Schedule {
  warmupSeconds: number;
  weights: number[];
  stepSeconds: number;
}

/** What happened in one run. */
export interface RunOutcome {
  /** Seconds after the rollout began (end of warm-up) when the analysis failed, or null. */
  failAt: number | null;
  /** Names of the checks that failed. */
  failedChecks: string[];
  /** The analysis's reason for the fail. */
  reason?: string;
  /** Seconds after the rollout began when the Flagger-style rule rolled back, or null. */
  flaggerAt: number | null;
  /** Whether any tick held with a sample-ratio mismatch. */
  sampleRatioMismatch: boolean;
}

/** The spec a run's analysis uses. */
export function rolloutSpec(
  checks: AnalysisCheck[],
  schedule: Schedule,
  alpha = 0.01,
  blockDuration = process.env.MESHCANARY_BENCH_BLOCK,
): SpecWithDefaults {
  const spec = {
    host: "reviews",
    virtualService: { name: "reviews" },
    stable: { subset: "v1" },
    canary: { subset: "v2" },
    strategy: { canary: { steps: schedule.weights.map((w) => ({ weight: w * 100 })) } },
    analysis: {
      alpha,
      minStepDuration: `${schedule.stepSeconds}s`,
      minRequests: 100,
      checks,
      ...(blockDuration ? { blockDuration } : {}),
    },
  } as unknown as CanarySpec;
  return withDefaults(spec);
}

function phases(s: Schedule): Phase[] {
  return [
    { atSecond: 0, weight: 0 },
    ...s.weights.map((weight, i) => ({ atSecond: s.warmupSeconds + i * s.stepSeconds, weight })),
  ];
}

function readerOf(world: World): TelemetryReader {
  return {
    series: (canary, from, to) => world.windows.series(canary, from, to),
    routingVersions: () => new Map(),
  };
}

/** Flagger's usual rule: canary error rate > 1% (or p99 > maxP99Ms) in the last 60 s, 5 times. */
export interface FlaggerLike {
  maxErrorRate: number;
  maxP99Ms?: number;
  intervalSeconds: number;
  threshold: number;
}

export const FLAGGER_LIKE: FlaggerLike = { maxErrorRate: 0.01, intervalSeconds: 60, threshold: 5 };

function flaggerFails(windows: readonly WindowPoint[], rule: FlaggerLike): boolean {
  let requests = 0;
  let failures = 0;
  const latency = emptySketch();
  for (const w of windows) {
    const c = w.variants.get(CANARY);
    if (!c) continue;
    requests += c.requests;
    failures += c.failures;
    if (rule.maxP99Ms !== undefined) mergeInto(latency, c.latencyUs);
  }
  if (requests === 0) return false;
  const slow = rule.maxP99Ms !== undefined && quantile(latency, 0.99) / 1000 > rule.maxP99Ms;
  return failures / requests > rule.maxErrorRate || slow;
}

function stepState(spec: SpecWithDefaults, index: number, weight: number, startMs: number): RolloutState {
  return {
    plan: planRollout(spec),
    phase: "Progressing",
    step: index,
    stepStartedAt: startMs,
    weightBp: Math.round(weight * 10000),
    routingVersion: index + 1,
    message: "",
    conditions: [],
    history: [],
  };
}

/**
 * The latency thresholds the controller's directive asks the filter to count per user group, from
 * the step's baselines as the analysis keeps them; they reach the filter from the next second on
 * (the step's first second is counted at the previous step's thresholds, or none).
 */
function thresholdsOf(spec: SpecWithDefaults, state: RolloutState) {
  const baselines = (state.analysisState as AnalysisState | undefined)?.baselines;
  return slowThresholds(
    toAnalysisChecks(spec.analysis.checks),
    { stable: STABLE, canary: CANARY },
    baselines,
  );
}

/** One rollout of `world` under `schedule`, judged every second by the controller's analysis. */
export function runRollout(
  worldSpec: WorldSpec,
  seed: number,
  spec: SpecWithDefaults,
  schedule: Schedule,
  flagger: FlaggerLike = FLAGGER_LIKE,
): RunOutcome {
  const world = new World(worldSpec, seed);
  const reader = readerOf(world);
  const all = phases(schedule);
  const end = schedule.warmupSeconds + schedule.weights.length * schedule.stepSeconds;
  const out: RunOutcome = { failAt: null, failedChecks: [], flaggerAt: null, sampleRatioMismatch: false };
  let state: RolloutState | undefined;
  let phaseIndex = 0;
  let failedFlaggerChecks = 0;
  for (let t = 0; t < end; t++) {
    while (phaseIndex + 1 < all.length && all[phaseIndex + 1].atSecond <= t) {
      phaseIndex++;
      state = stepState(spec, phaseIndex - 1, all[phaseIndex].weight, t * 1000);
    }
    world.step(t, all[phaseIndex].weight);
    const since = t + 1 - schedule.warmupSeconds;
    if (since > 0 && since % flagger.intervalSeconds === 0 && out.flaggerAt === null) {
      const recent = world.windows.series(
        world.canaryId,
        (t + 1 - flagger.intervalSeconds) * 1000,
        (t + 1) * 1000,
      );
      if (flaggerFails(recent, flagger)) failedFlaggerChecks++;
      if (failedFlaggerChecks >= flagger.threshold) out.flaggerAt = since;
    }
    if (!state || out.failAt !== null) continue;
    const r = analyseStep(reader, world.canaryId, spec, state, (t + 1) * 1000);
    if (!r) continue;
    if (r.state !== undefined) state = { ...state, analysisState: r.state };
    world.setSlowThresholds(thresholdsOf(spec, state));
    if (r.sampleRatioMismatch) out.sampleRatioMismatch = true;
    if (r.verdict === "fail") {
      out.failAt = since;
      out.failedChecks = r.checks.filter((c) => c.verdict === "fail").map((c) => c.name);
      out.reason = r.reason;
    }
    if (out.failAt !== null && out.flaggerAt !== null) break;
  }
  return out;
}
