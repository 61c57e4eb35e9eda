/**
 * The one mapping between the Canary's analysis section (percent, durations, one check per entry)
 * and the analysis module (shares, ms, one kind per check), in both directions:
 * spec checks → analysis checks, and an evaluation → the rollout's AnalysisResult.
 */
import { describeHold, type RobustResult as Evaluation } from "../analysis/leave-one-out.js";
import type { Check } from "../analysis/checks.js";
import type { AnalysisResult } from "../rollout/types.js";
import { durationMs } from "../spec/durations.js";
import type { AnalysisCheck, CheckResult } from "../spec/schema.js";

/** Shares must lie strictly inside (0, 1) for the analysis; 0% and 100% map to the nearest usable share. */
const EPSILON = 1e-6;

/** Analysis checks for a spec's (defaulted, named) checks. */
export function toAnalysisChecks(checks: readonly AnalysisCheck[]): Check[] {
  return checks.flatMap((c) => toAnalysis(c));
}

function toAnalysis(c: AnalysisCheck): Check[] {
  const name = c.name ?? "check";
  const common = {
    name,
    ...(c.sustainedFor !== undefined ? { sustainedForMs: durationMs(c.sustainedFor) } : {}),
  };
  if (c.failureRate) {
    const { max, maxIncrease } = c.failureRate;
    return [
      {
        ...common,
        kind: "failureRate",
        ...(max !== undefined ? { max: share(max) } : {}),
        // "No rise at all" is a ratio test (canary no worse than stable), not an increase of 0.
        ...(maxIncrease === 0 ? { maxRatio: 1 } : {}),
        ...(maxIncrease !== undefined && maxIncrease > 0 ? { maxIncrease: share(maxIncrease) } : {}),
      },
    ];
  }
  if (c.latency) {
    const { quantile, maxMs, maxRatio } = c.latency;
    return [{ ...common, kind: "latency", quantile, maxMs, maxRatio }];
  }
  if (c.metric) {
    const out: Check[] = [];
    const { name: metric, maxRatio, maxMeanRatio, quantile, maxPerMinute, maxRate, maxRateRatio } = c.metric;
    // One spec check may set several limits: the first keeps the name, the others get a suffix.
    const named = (suffix: string) => (out.length === 0 ? name : `${name}-${suffix}`);
    if (maxRatio !== undefined) {
      out.push({
        ...common,
        kind: "metricPerRequest",
        metric,
        maxRatio,
        ...(quantile !== undefined ? { quantile } : {}),
      });
    }
    if (maxMeanRatio !== undefined)
      out.push({ ...common, name: named("mean"), kind: "metricMean", metric, maxRatio: maxMeanRatio });
    if (maxPerMinute !== undefined)
      out.push({ ...common, name: named("rate"), kind: "metricRate", metric, maxPerMinute });
    if (maxRate !== undefined || maxRateRatio !== undefined) {
      out.push({
        ...common,
        name: named("share"),
        kind: "metricShare",
        metric,
        ...(maxRate !== undefined ? { max: share(maxRate) } : {}),
        ...(maxRateRatio !== undefined ? { maxRatio: maxRateRatio } : {}),
      });
    }
    return out;
  }
  return [];
}

function share(percent: number): number {
  return Math.min(1 - EPSILON, Math.max(EPSILON, percent / 100));
}

/** The rollout's view of an evaluation: verdict, one-line reason, per-check results, state to persist. */
export function toRolloutAnalysis(e: Evaluation): AnalysisResult {
  const deciding = e.checks.filter((c) => c.verdict === e.verdict);
  const reason = (deciding.length > 0 ? deciding : e.checks).map((c) => `${c.name}: ${c.reason}`).join("; ");
  const checks: CheckResult[] = e.checks.map((c) => ({
    name: c.name,
    verdict: c.verdict,
    message: c.reason,
    ...(finite(c.value) ? { value: c.value } : {}),
    ...(finite(c.threshold) ? { threshold: c.threshold } : {}),
    ...(finite(c.eValue) ? { eValue: c.eValue } : {}),
    // The level its e-value is judged against, so every view prints the one the analysis used.
    ...(finite(c.eValue) && e.alphaPerTest > 0 ? { rollbackAt: 1 / e.alphaPerTest } : {}),
  }));
  const srm = e.sampleRatioMismatch ? `held, sample-ratio mismatch: ${e.sampleRatioMismatch}; ` : "";
  const held = `${e.reporterHold ? `${describeHold(e.reporterHold)}; ` : ""}${srm}`;
  return {
    verdict: e.verdict,
    reason: `${held}${reason || "no checks"} [${e.alphaSplit}]`,
    checks,
    state: e.state as unknown as Record<string, unknown>,
    ...(e.sampleRatioMismatch ? { sampleRatioMismatch: e.sampleRatioMismatch } : {}),
    ...(e.alphaPerTest > 0 ? { rollbackAt: 1 / e.alphaPerTest } : {}),
  };
}

function finite(v: number | undefined): v is number {
  return v !== undefined && Number.isFinite(v);
}
