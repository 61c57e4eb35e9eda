/** Plain data the rollout state machine reads and produces. */
import type { CanaryStatus, CheckResult, Condition, Decision, Phase, Transition } from "../spec/schema.js";
import type { GateResult, GateState } from "./gates.js";
import type { RolloutPlan } from "./plan.js";

export type { Phase } from "../spec/schema.js";

/**
 * Operator commands, the one list the CLI, the API and the reconciler accept. `promote` leaves the
 * current step for the next one, `promote-full` skips every remaining step; `retry` restarts a
 * rolled-back or aborted rollout from step 1; `undo` sends a promoted rollout back to stable.
 */
export const COMMANDS = [
  "promote",
  "promote-full",
  "approve",
  "pause",
  "resume",
  "abort",
  "retry",
  "undo",
] as const;
export type Command = (typeof COMMANDS)[number];

/** Verdict of the analysis of the current step (canary against stable). */
export interface AnalysisResult {
  verdict: "pass" | "fail" | "inconclusive";
  /** One line: why, e.g. "failure-rate: canary 4.1% vs stable 0.9%, e=212 > 1/α". */
  reason: string;
  checks: CheckResult[];
  /** Analysis state to persist so the sequential tests resume after a restart. */
  state?: Record<string, unknown>;
  /** Set when the canary's realised share of requests departs from its weight beyond chance: why. */
  sampleRatioMismatch?: string;
  /** The e-value at which a check's fail test rolls back: 1 / the alpha of each test after the split. */
  rollbackAt?: number;
}

/**
 * What the runner observed since the last tick. Every field is optional; `{}` is a plain timer tick.
 * Fields are levels, not edges: the runner reports the current truth each tick (a command is the
 * exception: it is delivered once).
 */
export interface Observation {
  /** Identity of the canary version being rolled out (e.g. pod-template hash); a change restarts the rollout. */
  revision?: string;
  /** metadata.generation of the Canary acted on. */
  generation?: number;
  /** The VirtualService and DestinationRule subsets exist (true) or what is missing. */
  meshReady?: true | { missing: string[] };
  /** The highest routing version confirmed in force (VirtualService written and every live filter on it). */
  weightsApplied?: { version: number };
  /** Analysis of the window since the current step started. */
  analysis?: AnalysisResult;
  /** Canary requests counted over the last progress deadline (or since the step started, if later). */
  canaryRequestsRecent?: number;
  /** The per-variant comparison (effect sizes with intervals per check) of an A/B test or shadow, for status.report. */
  comparison?: Record<string, unknown>;
  /** An operator command, delivered once. */
  command?: Command;
  /** A fresh random marker, taken as the rollout's marker when one starts (or has none yet). */
  freshMarker?: string;
  /** Answers of gating webhooks that arrived since the last tick (events, not levels). */
  gates?: GateResult[];
}

/** Progress of one rollout; together with the plan it is all `advance` needs, and it all lives in status. */
export interface RolloutState {
  plan: RolloutPlan;
  phase: Phase;
  /** Index into plan.steps. */
  step: number;
  /** Unix ms when the current step's weights were confirmed in force; absent while waiting for that. */
  stepStartedAt?: number;
  /** Canary weight last set, basis points. */
  weightBp: number;
  /** Version of the routing table last set; increases with every setWeights. */
  routingVersion: number;
  /** approval: an approval step; manual: `pause` or the progress deadline; gate: confirm-promotion gates. */
  pausedBy?: "approval" | "manual" | "gate";
  revision?: string;
  observedGeneration?: number;
  message: string;
  conditions: Condition[];
  lastDecision?: Decision;
  history: Transition[];
  analysisState?: Record<string, unknown>;
  report?: Record<string, unknown>;
  /** Set by `undo`: the rollback ends with the target route on the stable subset, not on the route found at the start. */
  undone?: boolean;
  /** This rollout's secret marker (controller/mesh/variant-match.ts); replaced whenever a rollout starts. */
  marker?: string;
  /** Gating webhooks opened in this attempt and their last answers. */
  gates?: GateState[];
}

/** A variant's share of the host's traffic. */
export interface VariantWeight {
  /** "stable" or "canary": the x-meshcanary-variant value the VirtualService routes to the subset. */
  name: "stable" | "canary";
  weightBp: number;
}

/** Effects for the runner, in order. */
export type Action =
  | { kind: "setWeights"; version: number; variants: VariantWeight[]; reason: string }
  /** The whole new status (a merge patch of the status subresource). */
  | { kind: "writeStatus"; patch: CanaryStatus }
  | { kind: "event"; type: "Normal" | "Warning"; reason: string; message: string }
  /** One per transition; the runner sends it to each webhook whose `events` include `event`. */
  | { kind: "webhook"; event: Phase; step: number; canaryWeight: number; message: string }
  /** A step's weights are in force: analysis restarts its window and state from now. */
  | { kind: "resetAnalysis"; step: number; reason: string }
  /** The tick's command was applied (what it did) or refused (why); the runner records it in status. */
  | { kind: "commandHandled"; command: Command; applied: boolean; message: string };
