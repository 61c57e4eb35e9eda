/**
 * A rollout plan: every strategy reduced to the same list of steps the state machine walks.
 * - canary: the spec's steps; each gated by analysis (or approval), then promotion;
 * - blueGreen: a 0% preview step (pinned requests only) held for previewDuration, gated by analysis
 *   of the pinned traffic (or approval), then the switch: one 100% step watched by analysis for the
 *   scrutiny window (a fail switches back in one step), then promotion;
 * - abTest: one step at the fixed weight held for the duration (or until the comparison is
 *   conclusive), then a report; promotion only when the spec asks and the comparison passed;
 * - shadow: a 0% step mirroring a share of stable's requests to the canary, gated by analysis of
 *   shadow against stable, then the spec's canary steps (promotion), or a report without them.
 */
import { durationMs } from "../spec/durations.js";
import type { CanarySpec, CanaryStep } from "../spec/schema.js";
import { type GatePlan, planGates } from "./gates.js";

/** What must happen, after the hold time, for a step to complete. */
export type StepGate = "analysis" | "approval" | "time";

/** One step: the canary weight and how it is left. */
export interface PlanStep {
  /** Canary weight in basis points (0..10000). */
  weightBp: number;
  /** Least time at this weight once the mesh confirms it, ms. */
  holdMs: number;
  gate: StepGate;
  /** Share of stable's requests mirrored to the canary at this step, basis points (absent: none). */
  mirrorBp?: number;
}

export interface RolloutPlan {
  strategy: "canary" | "blueGreen" | "abTest" | "shadow";
  steps: PlanStep[];
  /** After the last step: switch 100% to the canary, or end with a comparison report and 100% stable. */
  finish: "promote" | "report";
  /** With an inconclusive analysis for this long at a step, pause for approval (absent: wait on). */
  maxStepMs?: number;
  /** A step serving canary traffic with no canary requests counted for this long ends, ms. */
  progressDeadlineMs: number;
  /** What ends it: a roll back, or a pause at 0% (resume re-applies the step). */
  onProgressDeadline: "rollback" | "pause";
  /** Gating webhooks: what the state machine needs of spec.gates (the runner calls them); absent: none. */
  gates?: GatePlan[];
  /** Set when the strategy cannot run yet; the reason is shown in status. */
  unsupported?: string;
  /** abTest: end the step early once the comparison is conclusive (pass or fail). */
  stopWhenConclusive?: boolean;
  /** abTest: after a passing comparison promote instead of ending on stable with a report. */
  promoteOnPass?: boolean;
}

const DEFAULT_MIN_STEP = "30s";
const DEFAULT_PROGRESS_DEADLINE = "10m";

/** Plans a validated spec (defaults need not be applied). */
export function planRollout(spec: CanarySpec): RolloutPlan {
  const minStepMs = durationMs(spec.analysis?.minStepDuration ?? DEFAULT_MIN_STEP);
  const maxStep = spec.analysis?.maxStepDuration;
  const maxStepMs = maxStep === undefined ? undefined : durationMs(maxStep);
  const shared = {
    ...(spec.gates?.length ? { gates: planGates(spec.gates) } : {}),
    progressDeadlineMs: durationMs(spec.analysis?.progressDeadline ?? DEFAULT_PROGRESS_DEADLINE),
    onProgressDeadline: spec.analysis?.onProgressDeadline ?? ("rollback" as const),
  };
  const { canary, blueGreen, abTest, shadow } = spec.strategy;
  const max = maxStepMs === undefined ? {} : { maxStepMs };
  const weightSteps = (steps: readonly CanaryStep[]): PlanStep[] =>
    steps.map((step) => ({
      weightBp: toBasisPoints(step.weight),
      holdMs: Math.max(minStepMs, durationMs(step.pause?.duration ?? "0")),
      gate: step.approval ? ("approval" as const) : ("analysis" as const),
    }));
  if (canary) {
    return { strategy: "canary", steps: weightSteps(canary.steps), finish: "promote", ...max, ...shared };
  }
  if (blueGreen) {
    const preview: PlanStep = {
      weightBp: 0,
      holdMs: durationMs(blueGreen.previewDuration ?? "0"),
      gate: blueGreen.approval ? "approval" : "analysis",
    };
    // The switch: all traffic at once, watched for the scrutiny window; the old version stays routable.
    const scrutiny: PlanStep = {
      weightBp: 10000,
      holdMs: durationMs(blueGreen.scrutinyWindow ?? "0"),
      gate: "time",
    };
    return { strategy: "blueGreen", steps: [preview, scrutiny], finish: "promote", ...max, ...shared };
  }
  if (abTest) {
    const step = {
      weightBp: toBasisPoints(abTest.weight),
      holdMs: durationMs(abTest.duration),
      gate: "time" as const,
    };
    return {
      strategy: "abTest",
      steps: [step],
      finish: "report",
      ...(abTest.stopWhenConclusive ? { stopWhenConclusive: true } : {}),
      ...(abTest.promote ? { promoteOnPass: true } : {}),
      ...shared,
    };
  }
  if (shadow) {
    const mirror: PlanStep = {
      weightBp: 0,
      holdMs: Math.max(minStepMs, durationMs(shadow.duration)),
      gate: "analysis",
      mirrorBp: toBasisPoints(shadow.mirrorPercent ?? 100),
    };
    const then = weightSteps(shadow.canarySteps ?? []);
    const finish = then.length > 0 ? ("promote" as const) : ("report" as const);
    return { strategy: "shadow", steps: [mirror, ...then], finish, ...max, ...shared };
  }
  return { strategy: "canary", steps: [], finish: "report", unsupported: "no strategy set", ...shared };
}

/** Percent (at most 2 decimals) → basis points. */
export function toBasisPoints(percent: number): number {
  return Math.round(percent * 100);
}
