/**
 * A rollout plan: every strategy reduced to the same list of steps the state machine walks.
 * - canary: the spec's steps; each gated by analysis (or approval), then promotion;
 * - blueGreen: one 0% step (pinned requests only) held for previewDuration and/or approval, then promotion;
 * - abTest: one step at the fixed weight held for the duration, then a report (no promotion);
 * - shadow: not supported yet; the plan says so and the rollout stays in Initializing with that message.
 */
import { durationMs } from "../spec/durations.js";
import type { CanarySpec } from "../spec/schema.js";
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
  if (canary) {
    const steps = canary.steps.map((step) => ({
      weightBp: toBasisPoints(step.weight),
      holdMs: Math.max(minStepMs, durationMs(step.pause?.duration ?? "0")),
      gate: step.approval ? ("approval" as const) : ("analysis" as const),
    }));
    return { strategy: "canary", steps, finish: "promote", maxStepMs, ...shared };
  }
  if (blueGreen) {
    const holdMs = durationMs(blueGreen.previewDuration ?? "0");
    const gate = blueGreen.approval ? ("approval" as const) : ("time" as const);
    return { strategy: "blueGreen", steps: [{ weightBp: 0, holdMs, gate }], finish: "promote", ...shared };
  }
  if (abTest) {
    const step = {
      weightBp: toBasisPoints(abTest.weight),
      holdMs: durationMs(abTest.duration),
      gate: "time" as const,
    };
    return { strategy: "abTest", steps: [step], finish: "report", ...shared };
  }
  const why = shadow ? "strategy shadow is not supported yet" : "no strategy set";
  return { strategy: "shadow", steps: [], finish: "report", unsupported: why, ...shared };
}

/** Percent (at most 2 decimals) → basis points. */
export function toBasisPoints(percent: number): number {
  return Math.round(percent * 100);
}
