/**
 * Defaults of a Canary spec: the schema's `default` annotations plus the rules that depend on other
 * fields (the default check, derived check names). `meshcanary render` shows the result.
 */
import { Value } from "@sinclair/typebox/value";
import { type Analysis, type AnalysisCheck, type CanarySpec, CanarySpecSchema, type Pins } from "./schema.js";
import { checkName } from "./validate.js";

/**
 * Used when a spec lists no checks: the canary's failure rate at most 1% (Flagger's usual 99%
 * success SLO) and no worse than stable's. The ceiling lets a step pass when failures are too rare
 * for the comparison with stable to conclude (statistics.md); the comparison still fails a
 * regression as soon as the evidence is there.
 */
export const DEFAULT_CHECK: AnalysisCheck = { name: "failure-rate", failureRate: { max: 1, maxIncrease: 0 } };

/** A spec with every defaulted field present. */
export type SpecWithDefaults = CanarySpec & {
  pins: Required<Pins>;
  analysis: Analysis & Required<Pick<Analysis, "alpha" | "minRequests" | "minStepDuration" | "checks">>;
};

/** Returns a copy of a (validated) spec with all defaults filled in; the input is not modified. */
export function withDefaults(spec: CanarySpec): SpecWithDefaults {
  const filled = Value.Default(CanarySpecSchema, structuredClone(spec)) as SpecWithDefaults;
  const checks = filled.analysis.checks ?? [DEFAULT_CHECK];
  filled.analysis.checks = checks.map((check) => ({ name: checkName(check), ...check }));
  return filled;
}
