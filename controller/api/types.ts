/**
 * What the HTTP API, the dashboard and /metrics see of the controller. The controller implements
 * ApiBackend by adapting its own state (Canary status, telemetry windows) to these view types, so
 * this module depends only on plain data and the shared phase/command lists.
 */

/** Operator commands accepted by POST /api/v1/canaries/:ns/:name/:command. */
import type { Command } from "../rollout/types.js";

export { COMMANDS } from "../rollout/types.js";
export type ApiCommand = Command;

/** Rollout phases: the Canary status values, in display order. */
export { PHASES } from "../spec/schema.js";

/** One check's verdict in a decision. */
export interface CheckView {
  name: string;
  verdict: "pass" | "fail" | "inconclusive";
  /** Evidence in words, e.g. "canary 4.1% vs stable 0.9%". */
  reason: string;
  /** Observed value the check compared (e.g. failure rate percent, latency ms). */
  value?: number;
  /** Threshold the value was compared to. */
  threshold?: number;
  /** Sequential test e-value; the check fails when it reaches rollbackAt. */
  eValue?: number;
  /** The e-value at which the check rolls back: 1 / (alpha split over the tests and steps). */
  rollbackAt?: number;
}

/** A rollout decision: what the controller did and why. */
export interface DecisionView {
  /** RFC3339 time. */
  at: string;
  /** e.g. "advance", "hold", "rollback", "promote". */
  action: string;
  reason: string;
  checks: CheckView[];
}

/** A Kubernetes-style condition. */
export interface ConditionView {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  /** RFC3339 time. */
  lastTransitionTime: string;
}

/** The state of one Canary, as listed. */
export interface CanarySummary {
  namespace: string;
  name: string;
  /** One of PHASES (a string so that a newer controller's phase still shows). */
  phase: string;
  /** Index of the current step (0-based). */
  step: number;
  stepCount: number;
  /** Canary weight, percent. */
  canaryWeight: number;
  /** Weight per variant name ("stable", "canary"), basis points. */
  weightBp: Record<string, number>;
  /** What the rollout is doing or waiting for. */
  message: string;
  conditions: ConditionView[];
  lastDecision?: DecisionView;
}

/** One transition in a rollout's history. */
export interface TimelineEntry {
  /** RFC3339 time. */
  at: string;
  /** Phase entered. */
  phase: string;
  step: number;
  /** Canary weight after the transition, percent. */
  weight: number;
  reason: string;
}

/** The parts of a Canary's spec the dashboard shows. */
export interface SpecSummary {
  host: string;
  virtualService: string;
  /** Canary weight of each step, percent. */
  stepWeights: number[];
  /** Names of the analysis checks. */
  checks: string[];
  /** Names of the custom response metrics tallied (spec.metrics). */
  metrics: string[];
  /** spec.llm is set: the filter tallies the llm-* metrics (tokens, cost, guardrail blocks...). */
  llm?: boolean;
}

/** A Canary with its history and spec. */
export interface CanaryDetail extends CanarySummary {
  timeline: TimelineEntry[];
  spec: SpecSummary;
  /** status.report: an A/B test's or shadow's comparison (live while it runs). */
  report?: Record<string, unknown>;
  /** The canary's share in the current step, percent (docs/llm.md); absent outside a step. */
  exposure?: Exposure;
  /** RFC3339 time the Canary object was created (metadata.creationTimestamp). */
  createdAt?: string;
  /** RFC3339 time the current step's weights were confirmed in force; absent while waiting for that. */
  stepStartedAt?: string;
  /** The steps the rollout walks, in order (the current one is `step`). */
  plan?: PlanStepView[];
  /** Every operator command: null when it applies now, else why not (the controller's own rule). */
  commands?: Record<string, string | null>;
  /** Gating webhooks of spec.gates with their state in this attempt. */
  gates?: GateView[];
  /** Evidence (e-value) of each check over the current rollout, against its rollback level. */
  evidence?: EvidenceView;
  /** This Canary's rollouts seen by this controller, newest first (bounded). */
  rollouts?: RolloutView[];
}

/** One step of the rollout plan. */
export interface PlanStepView {
  /** Canary weight, percent. */
  weight: number;
  /** Least time at this weight once in force, ms. */
  holdMs: number;
  /** What ends the step after the hold: analysis, an approval or the time alone. */
  gate: "analysis" | "approval" | "time";
  /** Share of stable's requests mirrored to the canary, percent (shadow steps). */
  mirror?: number;
}

/** A gating webhook: its spec and its state in this attempt (absent until its phase opens it). */
export interface GateView {
  name: string;
  /** pre-rollout, confirm-promotion or post-rollout. */
  type: string;
  /** The webhook's origin (scheme, host, port) only: paths and queries may carry secrets. */
  origin: string;
  /** Pending, Passed or Failed; absent while the gate has not opened. */
  result?: string;
  failures?: number;
  failureLimit: number;
  message?: string;
  /** RFC3339 time of the last answer. */
  at?: string;
}

/** Per-check e-values over time; a check rolls back once its e-value reaches `rollbackAt`. */
export interface EvidenceView {
  /** 1 / (the Canary's alpha split over the tests that can roll back); absent before any analysis. */
  rollbackAt?: number;
  /** Analysis points, oldest first: time (Unix ms), step index and e-value per check name. */
  points: Array<{ t: number; step: number; e: Record<string, number> }>;
}

/** One rollout of a Canary (from one start to its end). */
export interface RolloutView {
  /** RFC3339 time of its first transition. */
  startedAt: string;
  /** RFC3339 time it reached Succeeded, RolledBack or Aborted; absent while it runs. */
  endedAt?: string;
  /** Phase it is in or ended in. */
  phase: string;
  /** Reason of its last transition. */
  reason: string;
  /** Highest step index and canary weight (percent) it reached. */
  maxStep: number;
  maxWeight: number;
  /** Its transitions, oldest first (the last ones when there were many). */
  transitions: TimelineEntry[];
  /** The last decision taken in it, when it has ended. */
  finalDecision?: DecisionView;
}

/** Canary share of requests, LLM tokens and LLM cost, percent; a share with no data is absent. */
export interface Exposure {
  requests?: number;
  tokens?: number;
  cost?: number;
}

/** One variant's outcomes in one 1-second window. */
export interface VariantPoint {
  requests: number;
  failures: number;
  /** Requests per second over the window. */
  rps: number;
  /** failures / requests; null when there were no requests. */
  failureRate: number | null;
  /** Latency quantiles in ms; null when there were no requests. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Custom metric name -> mean value per request (sum / requests). */
  metrics: Record<string, number>;
}

/** One window of a canary's series. */
export interface SeriesPoint {
  /** Window start, Unix ms. */
  t: number;
  /** Window length, ms. */
  durationMs: number;
  variants: Record<string, VariantPoint>;
}

/** A live update pushed to dashboard clients. */
export type ApiEvent =
  | { type: "canary"; canary: CanarySummary }
  | { type: "removed"; namespace: string; name: string }
  | { type: "series"; namespace: string; name: string; point: SeriesPoint }
  | { type: "decision"; namespace: string; name: string; decision: DecisionView };

/** Result of an operator command (503: the command could not be recorded, e.g. the Kubernetes API failed). */
export type CommandResult = { ok: true } | { ok: false; status: 404 | 409 | 422 | 503; message: string };

/** What the API server reads and drives; the controller implements it. */
export interface ApiBackend {
  listCanaries(): CanarySummary[];
  getCanary(namespace: string, name: string): CanaryDetail | undefined;
  /** Windows of an existing canary with t >= sinceMs, oldest first (the server checks existence first). */
  series(namespace: string, name: string, sinceMs: number): SeriesPoint[];
  /** Records `command` for the canary; `user` (who asked) goes into the Kubernetes Event. */
  command(namespace: string, name: string, command: ApiCommand, user: string): Promise<CommandResult>;
  /** Whether this replica is ready (/readyz): able to serve and to lead at once, leader or not. */
  ready(): boolean;
  /** Registers a listener for live updates; returns the unsubscribe function. */
  subscribe(listener: (event: ApiEvent) => void): () => void;
}

/** Telemetry ingest counters (the shape of TelemetryServer.stats()). */
export interface IngestCounts {
  reports: number;
  accepted: number;
  ignored: number;
  /** Rejected reports by reason. */
  rejected: Record<string, number>;
  /** Entries dropped from otherwise used reports, by reason. */
  droppedEntries: Record<string, number>;
  /** Streams refused before any report, by reason ("token", "not_serving"). */
  refusedStreams: Record<string, number>;
  streams: number;
  reporters: number;
}
