/**
 * The analysis observation of one tick: canary against stable over the complete 1-s windows since
 * the current step's weights came into force, resuming the state kept in status. Pure.
 */
import type { AnalysisState } from "../analysis/analyze.js";
import { measureBaselines, missingBaselines } from "../analysis/baselines.js";
import { compareVariants } from "../analysis/comparison.js";
import { evaluateRobust } from "../analysis/leave-one-out.js";
import type { SpecWithDefaults } from "../spec/defaults.js";
import { durationMs } from "../spec/durations.js";
import { mirrorBpOf } from "../rollout/status.js";
import type { RolloutState } from "../rollout/types.js";
import type { TelemetryReader } from "../telemetry/types.js";
import { toAnalysisChecks, toRolloutAnalysis } from "./analysis-checks.js";
import { type StepSeries, windowsIn } from "./step-series.js";
import { CANARY, comparedVariant, STABLE } from "./variant-names.js";
import type { AnalysisResult } from "../rollout/types.js";

export const WINDOW_MS = 1000;
/** Stable's figures for ratio thresholds come from this long before the step. */
export const BASELINE_MS = 5 * 60 * 1000;
/**
 * When nothing before the step has them (a new Canary's first step: the filter had no route for it
 * yet), stable's figures come from this much of the step's start, and only later windows are judged.
 */
export const IN_STEP_BASELINE_MS = 10_000;

export { CANARY, comparedVariant, STABLE } from "./variant-names.js";

/** Steps whose analysis can end the rollout, for the split of alpha (blue-green's switch is one). */
function analysedSteps(state: RolloutState): number {
  const { plan } = state;
  const n = plan.steps.filter(
    (s) => s.gate === "analysis" || (plan.strategy === "blueGreen" && s.weightBp === 10000),
  ).length;
  return Math.max(1, n);
}

/** The spec's block duration in whole seconds (ms; 0 = per event), or undefined for the default. */
function blockMsOf(duration: string | undefined): number | undefined {
  if (duration === undefined) return undefined;
  const ms = durationMs(duration);
  if (ms === 0) return 0;
  return Math.max(WINDOW_MS, Math.round(ms / WINDOW_MS) * WINDOW_MS);
}

/**
 * The closed windows of the current step, [fromMs, toMs), or undefined outside a step or before its
 * first closed window. Windows are keyed by arrival; the one that began before the step mixes the
 * old weights, so it is skipped.
 */
function closedStepWindows(state: RolloutState, nowMs: number): { fromMs: number; toMs: number } | undefined {
  if (state.phase !== "Progressing" && state.phase !== "Paused") return undefined;
  if (state.stepStartedAt === undefined) return undefined;
  const fromMs = Math.ceil(state.stepStartedAt / WINDOW_MS) * WINDOW_MS;
  const toMs = Math.floor(nowMs / WINDOW_MS) * WINDOW_MS;
  return toMs > fromMs ? { fromMs, toMs } : undefined;
}

/**
 * Analysis for the state's current step, or undefined when no step is being analysed. `series`:
 * the step's windows already read this tick (step-series.ts), used where it covers the range.
 */
export function analyseStep(
  reader: TelemetryReader,
  canaryId: string,
  spec: SpecWithDefaults,
  state: RolloutState,
  nowMs: number,
  series?: StepSeries,
): AnalysisResult | undefined {
  const range = closedStepWindows(state, nowMs);
  if (range === undefined) return undefined;
  const { fromMs, toMs } = range;
  const checks = toAnalysisChecks(spec.analysis.checks);
  const previous = state.analysisState as AnalysisState | undefined;
  // Baselines are kept in the analysis state (status) once seen: after a restart or a leader move
  // the windows before the step are gone from memory, the figures are not.
  const kept = previous?.version === 2 ? previous.baselines : undefined;
  let baselines = missingBaselines(kept, checks)
    ? measureBaselines(reader.series(canaryId, fromMs - BASELINE_MS, fromMs), STABLE, checks)
    : undefined;
  let judgedFrom = fromMs;
  if (baselines && missingBaselines({ ...kept, ...baselines }, checks)) {
    // The threshold still comes from data before the windows it judges: stable's first seconds.
    judgedFrom = fromMs + IN_STEP_BASELINE_MS;
    if (toMs <= judgedFrom) return undefined;
    const inStep = measureBaselines(windowsIn(reader, canaryId, fromMs, judgedFrom, series), STABLE, checks);
    baselines = { ...inStep, ...baselines };
  }
  // No single reporter decides: a verdict must also hold with any one reporter group left out.
  const result = evaluateRobust(
    {
      windows: windowsIn(reader, canaryId, judgedFrom, toMs, series),
      canaryVariant: comparedVariant(state),
      stableVariant: STABLE,
      checks,
      alpha: spec.analysis.alpha,
      minRequests: spec.analysis.minRequests,
      baselines,
      nowMs: toMs,
      steps: analysedSteps(state),
      canaryWeight: state.weightBp / 10000,
      rollbackOnSharedIncident: spec.analysis.rollbackOnSharedIncident,
      blockMs: blockMsOf(spec.analysis.blockDuration),
    },
    previous,
    reader.reporterGroups?.(canaryId),
  );
  if (result instanceof Error) return { verdict: "inconclusive", reason: result.message, checks: [] };
  return toRolloutAnalysis(result);
}

/**
 * The comparison report (per check, each variant's share with its confidence sequence and the
 * effect with its interval) of a running A/B test or shadow step; undefined for other strategies.
 */
export function compareStep(
  reader: TelemetryReader,
  canaryId: string,
  spec: SpecWithDefaults,
  state: RolloutState,
  nowMs: number,
  series?: StepSeries,
): Record<string, unknown> | undefined {
  const experiment = state.plan.strategy === "abTest" || mirrorBpOf(state) > 0;
  const range = experiment ? closedStepWindows(state, nowMs) : undefined;
  if (range === undefined) return undefined;
  const { fromMs, toMs } = range;
  const variants = { stable: STABLE, canary: comparedVariant(state) };
  const checks = toAnalysisChecks(spec.analysis.checks);
  const windows = windowsIn(reader, canaryId, fromMs, toMs, series);
  return { ...compareVariants(windows, variants, checks, spec.analysis.alpha, toMs - fromMs) };
}

/**
 * Canary requests counted over the last progress deadline (from the step's start if later), for
 * the rollout's progress deadline; undefined when no step is being analysed.
 */
export function recentCanaryRequests(
  reader: TelemetryReader,
  canaryId: string,
  state: RolloutState,
  nowMs: number,
): number | undefined {
  if (state.phase !== "Progressing" || state.stepStartedAt === undefined) return undefined;
  const fromMs = Math.max(state.stepStartedAt, nowMs - state.plan.progressDeadlineMs);
  let n = 0;
  for (const w of reader.series(canaryId, fromMs, nowMs + WINDOW_MS))
    n += w.variants.get(CANARY)?.requests ?? 0;
  return n;
}
