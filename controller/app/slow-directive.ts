/**
 * The latency thresholds a route asks its filters to tally per user group (Route.slow_thresholds):
 * those of analysis/slow-thresholds.ts for the step being analysed, from stable's pre-step figures
 * kept in the analysis state. None outside an analysed step or before the figures exist.
 */
import type { AnalysisState } from "../analysis/analyze.js";
import { type SlowThreshold, slowThresholds } from "../analysis/slow-thresholds.js";
import type { RolloutState } from "../rollout/types.js";
import type { SpecWithDefaults } from "../spec/defaults.js";
import { toAnalysisChecks } from "./analysis-checks.js";
import { comparedVariant, STABLE } from "./variant-names.js";

/** The thresholds of the state's current step, for every variant (each route keeps its own variants'). */
export function stepSlowThresholds(spec: SpecWithDefaults, state: RolloutState): SlowThreshold[] {
  if (state.phase !== "Progressing" && state.phase !== "Paused") return [];
  // Before the step clock starts the analysis state is still the previous step's.
  if (state.stepStartedAt === undefined) return [];
  const analysis = state.analysisState as AnalysisState | undefined;
  const baselines = analysis?.version === 2 ? analysis.baselines : undefined;
  if (baselines === undefined) return [];
  const variants = { stable: STABLE, canary: comparedVariant(state) };
  return slowThresholds(toAnalysisChecks(spec.analysis.checks), variants, baselines);
}

/** The thresholds of `all` for the variants a route carries. */
export function slowThresholdsFor(
  all: readonly SlowThreshold[],
  variants: readonly { name: string }[],
): SlowThreshold[] {
  return all.filter((t) => variants.some((v) => v.name === t.variant));
}
