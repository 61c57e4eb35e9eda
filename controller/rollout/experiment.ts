/**
 * The A/B test's own rules, pure: when the fixed split ends and how (a report on stable, or a
 * promotion the spec asked for), and the report written to status. Unlike a canary step, a failing
 * comparison is a result, not an incident: the test ends with the report, it is not rolled back.
 */
import { rfc3339 } from "./status.js";
import type { RolloutPlan } from "./plan.js";
import type { AnalysisResult } from "./types.js";

/** How an A/B step ends this tick, or undefined while it runs on. */
export interface ExperimentEnd {
  finish: "report" | "promote";
  why: string;
}

/**
 * The end of an A/B step: at the end of its duration, or earlier when the plan stops on a
 * conclusive comparison. Promotion needs both the spec's consent and a passing comparison.
 */
export function experimentEnd(
  plan: RolloutPlan,
  analysis: AnalysisResult | undefined,
  elapsedMs: number,
  holdMs: number,
): ExperimentEnd | undefined {
  const verdict = analysis?.verdict ?? "inconclusive";
  const conclusive = verdict !== "inconclusive";
  const timeUp = elapsedMs >= holdMs;
  if (!timeUp && !(plan.stopWhenConclusive && conclusive)) return undefined;
  const why = timeUp
    ? `test duration elapsed, comparison ${verdict}`
    : `comparison conclusive (${verdict}) before the duration`;
  return { finish: plan.promoteOnPass && verdict === "pass" ? "promote" : "report", why };
}

/** What status.report holds for a finished (or, with `live`, a running) test. */
export function experimentReport(o: {
  strategy: RolloutPlan["strategy"];
  weightBp: number;
  startedAtMs: number | undefined;
  nowMs: number;
  analysis: AnalysisResult | undefined;
  comparison: Record<string, unknown> | undefined;
  live: boolean;
}): Record<string, unknown> {
  const a = o.analysis;
  return {
    strategy: o.strategy,
    live: o.live,
    weightBp: o.weightBp,
    ...(o.startedAtMs !== undefined ? { startedAt: rfc3339(o.startedAtMs) } : {}),
    [o.live ? "updatedAt" : "finishedAt"]: rfc3339(o.nowMs),
    verdict: a?.verdict ?? "inconclusive",
    reason: a?.reason ?? "no analysis was reported",
    checks: a?.checks ?? [],
    ...(o.comparison ?? {}),
  };
}
