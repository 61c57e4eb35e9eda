/**
 * The moves phase rules and commands share: start or complete a step, promote (after the
 * confirm-promotion gates when there are any), roll back, finish an A/B test with its report, pause,
 * and restart from step 1.
 */
import { experimentReport } from "./experiment.js";
import { hasGates } from "./gates.js";
import { setWeights, stepLabel, type Tick, transition } from "./tick.js";
import type { AnalysisResult, RolloutState } from "./types.js";

/** Starts step `index`: its weight goes out; its clock starts once the mesh confirms it. */
export function startStep(t: Tick, index: number, why: string): void {
  const step = t.s.plan.steps[index]!;
  Object.assign(t.s, { step: index, stepStartedAt: undefined, pausedBy: undefined });
  setWeights(t, step.weightBp, `step ${index + 1}: ${why}`);
  transition(t, "Progressing", `${stepLabel(t.s)}: ${why}`);
  t.s.message = `${stepLabel(t.s)}: waiting for routing version ${t.s.routingVersion} to reach the mesh`;
}

/** The step is done: the next step, or the plan's finish after the last. */
export function completeStep(t: Tick, why: string): void {
  if ((t.s.report as { live?: unknown } | undefined)?.live === true) t.s.report = reportNow(t, false);
  const next = t.s.step + 1;
  if (next < t.s.plan.steps.length) {
    startStep(t, next, why);
    return;
  }
  if (t.s.plan.finish === "promote") {
    promoteWhenConfirmed(t, `all steps done: ${why}`);
    return;
  }
  finishWithReport(t, why);
}

/** All traffic to the canary: Promoting until the mesh confirms. */
export function promote(t: Tick, why: string): void {
  t.s.pausedBy = undefined;
  setWeights(t, 10000, `promote: ${why}`);
  transition(t, "Promoting", why);
}

/** Promotes, or first pauses for the confirm-promotion gates when there are any. */
export function promoteWhenConfirmed(t: Tick, why: string): void {
  if (!hasGates(t.s.plan, "confirm-promotion")) {
    promote(t, why);
    return;
  }
  pause(t, "gate", `${why}; promotion awaits the confirm-promotion gates`);
}

/** All traffic back to stable: RollingBack until the mesh confirms. */
export function rollBack(t: Tick, why: string): void {
  t.s.pausedBy = undefined;
  setWeights(t, 0, `roll back: ${why}`);
  transition(t, "RollingBack", why);
}

/** Ends an A/B test: its report in status, traffic back on stable, Succeeded. */
export function finishWithReport(t: Tick, why: string): void {
  t.s.report = reportNow(t, false);
  setWeights(t, 0, `test finished: ${why}`);
  transition(t, "Succeeded", `test finished (${why}); report in status.report, traffic back on stable`);
}

/** Pauses; `by` says what releases it. */
export function pause(t: Tick, by: NonNullable<RolloutState["pausedBy"]>, why: string): void {
  t.s.pausedBy = by;
  transition(t, "Paused", why);
}

/** Back to the start of the plan: step 1, fresh analysis, no report. */
export function restart(t: Tick): void {
  Object.assign(t.s, { step: 0, stepStartedAt: undefined, pausedBy: undefined, report: undefined });
  // A marker learned during an earlier rollout must not route this one.
  if (t.obs.freshMarker !== undefined) t.s.marker = t.obs.freshMarker;
  t.s.analysisState = undefined;
  t.s.undone = undefined;
}

/** The comparison report now (`live` while the step still runs). */
export function reportNow(t: Tick, live: boolean): Record<string, unknown> {
  return experimentReport({
    strategy: t.s.plan.strategy,
    weightBp: t.s.weightBp,
    startedAtMs: t.s.stepStartedAt,
    nowMs: t.now,
    analysis: t.obs.analysis ?? decisionAsAnalysis(t.s),
    comparison: t.obs.comparison,
    live,
  });
}

function decisionAsAnalysis(s: RolloutState): AnalysisResult | undefined {
  const d = s.lastDecision;
  if (d === undefined) return undefined;
  const verdict = d.action === "advance" ? "pass" : d.action === "rollback" ? "fail" : "inconclusive";
  return { verdict, reason: d.reason, checks: d.checks };
}
