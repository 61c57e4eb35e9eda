/** What the reconcile loop keeps per Canary, and what it is given to work with. */
import type { Logger } from "pino";
import type { Directive } from "../gen/meshcanary/v1/telemetry_pb.js";
import type { CanaryObject } from "../kube/canaries.js";
import type { ApplyOutcome } from "../mesh/apply.js";
import type { AnalysisResult, RolloutState } from "../rollout/types.js";
import type { SpecWithDefaults } from "../spec/defaults.js";
import type { CanaryStatus, CommandResult } from "../spec/schema.js";
import type { TelemetryReader } from "../telemetry/types.js";
import type { GatePoller } from "./gate-poller.js";
import type { Runner } from "./runner.js";
import type { StepSeries } from "./step-series.js";

/** Status as this controller writes it: the rollout's plus the last handled command and its outcome. */
export type WrittenStatus = CanaryStatus;

/** What the loop remembers about one Canary. */
export interface CanaryRecord {
  object: CanaryObject;
  /** Last valid spec (defaults applied) and the rollout state; undefined until first reconciled. */
  spec?: SpecWithDefaults;
  state?: RolloutState;
  /** Status as last written (or as found when restored). */
  written?: WrittenStatus;
  lastCommand?: string;
  /** Outcome of the last handled command, for status.commandResult. */
  commandResult?: CommandResult;
  /** When status was last written by this replica (Unix ms). */
  writtenAtMs?: number;
  /** The status last announced through onStatusChanged (JSON), so each change is announced once. */
  announced?: string;
  /** Routing last carried out: which intent, for which rollout routing version, and how it went. */
  routing?: { key: string; version: number; outcome: ApplyOutcome; directiveVersion: number; atMs: number };
  /** "<reason>: <message>" of the last InvalidSpec or Conflict reported, so it is reported once. */
  invalid?: string;
  /** resourceVersion at which the finalizer list was last written (the informer has yet to show it). */
  finalizersAskedAt?: string;
  /** The current step's windows as read this tick, shared by the analysis and status.exposure. */
  stepSeries?: StepSeries;
  /**
   * Being deleted: the first Directive version without this canary, and when it went out. Kept over
   * a leadership reset: versions only grow and every later table leaves the canary out too, while
   * restarting the wait at each lease flap could hold the object for as long as the flaps go on.
   */
  leaving?: { version: number; atMs: number };
}

/** The reconcile loop's edges: the Kubernetes and mesh runner, telemetry, the filters, and its listeners. */
export interface ReconcilerDeps {
  runner: Runner;
  reader: TelemetryReader;
  /** Sends a Directive to every filter; an error value when refused. */
  publish(d: Directive): Error | undefined;
  logger: Logger;
  /** Without confirmation from every live reporter, treat routing as in force after this long; default 5000 ms. */
  propagationTimeoutMs?: number;
  /** Routes in one Directive; default MAX_DIRECTIVE_ROUTES, the filters' limit (tests lower it). */
  maxRoutes?: number;
  /** Figure-only status changes are written at most this often (status-cadence.ts); default 30 s. */
  statusCheckpointMs?: number;
  /** Calls the gating webhooks (spec.gates) the rollout state says are due; absent: gates never answer. */
  gates?: GatePoller;
  /** Called when the status changed, whether written now or held for the next checkpoint (the API pushes it to dashboards). */
  onStatusChanged?(record: CanaryRecord): void;
  /** Called with each analysis of a step, before the state machine acts on it (the API keeps the evidence over time). */
  onAnalysis?(id: string, nowMs: number, step: number, analysis: AnalysisResult): void;
}
