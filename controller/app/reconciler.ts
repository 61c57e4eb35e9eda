/**
 * The reconcile loop: every tick, for each Canary the informer knows, validate → plan → restore
 * state (first time) → observe → advance → carry out the actions → persist status. Also owns the
 * one routing table (Directive) for all canaries. Only the leader calls tick().
 */
import type { Logger } from "pino";
import type { CanaryObject } from "../kube/canaries.js";
import { COMMAND_ANNOTATION } from "../kube/canaries.js";
import type { EventNote } from "../kube/events.js";
import type { ApplyOutcome } from "../mesh/apply.js";
import type { MeshIntent } from "../mesh/types.js";
import type { WebhookTarget } from "../notify/webhooks.js";
import { advance } from "../rollout/advance.js";
import { planRollout } from "../rollout/plan.js";
import { rfc3339, stateFromStatus, statusFromState } from "../rollout/status.js";
import type { Action, AnalysisResult, Observation, RolloutState } from "../rollout/types.js";
import { type SpecWithDefaults, withDefaults } from "../spec/defaults.js";
import type { CanarySpec, CanaryStatus, CommandResult, Condition } from "../spec/schema.js";
import { validateCanary } from "../spec/validate.js";
import type { Directive } from "../gen/meshcanary/v1/telemetry_pb.js";
import type { TelemetryReader } from "../telemetry/types.js";
import { pendingCommand } from "./command.js";
import { deletionIntent, finalizersWanted, REVERT_FINALIZER } from "./deletion.js";
import {
  buildDirective,
  MAX_DIRECTIVE_ROUTES,
  nextDirectiveVersion,
  type RouteSource,
  routeTable,
} from "./directive.js";
import type { GatePoller } from "./gate-poller.js";
import { meshIntentFor } from "./mesh-intent.js";
import { newVariantMarker } from "../mesh/variant-match.js";
import { resumeFromMesh } from "./resume.js";
import { revisionOf } from "./revision.js";
import { RouteCap } from "./route-cap.js";
import { idOf, type Runner } from "./runner.js";
import { STATUS_CHECKPOINT_MS, statusWriteDue } from "./status-cadence.js";
import { mergePatch } from "./status-patch.js";
import { statusExposure } from "./exposure.js";
import { analyseStep, compareStep, recentCanaryRequests } from "./step-analysis.js";
import { readStepSeries, type StepSeries, windowsIn } from "./step-series.js";

/** Status as this controller writes it: the rollout's plus the last handled command and its outcome. */
type WrittenStatus = CanaryStatus;

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

export class Reconciler {
  private readonly records = new Map<string, CanaryRecord>();
  private directive = { version: 0, key: "" };
  /** resetFromStatus was called: the next tick starts by forgetting in-memory progress. */
  private resetPending = false;
  private readonly routeCap: RouteCap;

  constructor(private readonly deps: ReconcilerDeps) {
    this.routeCap = new RouteCap(deps.maxRoutes ?? MAX_DIRECTIVE_ROUTES, deps.logger);
  }

  upsert(object: CanaryObject): void {
    const id = idOf(object);
    const record = this.records.get(id);
    if (record) record.object = object;
    else this.records.set(id, { object });
  }

  remove(object: CanaryObject): CanaryRecord | undefined {
    const id = idOf(object);
    const record = this.records.get(id);
    this.records.delete(id);
    return record;
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  get(id: string): CanaryRecord | undefined {
    return this.records.get(id);
  }

  all(): CanaryRecord[] {
    return [...this.records.values()];
  }

  /**
   * Forgets in-memory progress so the next tick restores every rollout from status (new leadership).
   * Takes effect when that tick starts: a pass still running when leadership came back would
   * otherwise publish tables missing the canaries it had already passed, and every filter would
   * forget their tallies and restart them from zero (dropped as counters going backwards).
   */
  resetFromStatus(): void {
    this.resetPending = true;
  }

  private forgetProgress(): void {
    this.resetPending = false;
    for (const r of this.records.values()) {
      Object.assign(r, { spec: undefined, state: undefined, written: undefined, routing: undefined });
      r.lastCommand = undefined;
      r.commandResult = undefined;
      r.writtenAtMs = undefined;
      r.invalid = undefined;
    }
    this.directive.key = "";
  }

  /** One pass over every Canary, one at a time. */
  async tick(nowMs: number): Promise<void> {
    if (this.resetPending) this.forgetProgress();
    // Every rollout is restored before the first table goes out: a table missing a running canary
    // makes every filter forget its tallies and restart them from zero, which the ingest must then
    // drop as counters going backwards (after a restart or a leader change: no data for minutes).
    for (const record of [...this.records.values()]) {
      if (record.state !== undefined) continue;
      try {
        await this.restoreForRouting(record, nowMs);
      } catch (e) {
        this.deps.logger.error({ canary: idOf(record.object), err: e }, "restore failed");
      }
    }
    for (const record of [...this.records.values()]) {
      try {
        await this.reconcile(record, nowMs);
      } catch (e) {
        this.deps.logger.error({ canary: idOf(record.object), err: e }, "reconcile failed");
      }
    }
    this.publishRouting(nowMs);
  }

  private async reconcile(record: CanaryRecord, now: number): Promise<void> {
    const { object } = record;
    const id = idOf(object);
    const checked = validateCanary({
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: object.metadata,
      spec: object.spec,
    });
    if (object.metadata.deletionTimestamp) {
      // An invalid spec at deletion falls back to the last valid one: the object must still go.
      const spec = checked.ok ? withDefaults(checked.canary.spec as CanarySpec) : record.spec;
      await this.finalize(record, spec, now);
      return;
    }
    if (!checked.ok) {
      const message = checked.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
      await this.reportNotReady(record, "InvalidSpec", message, now);
      return;
    }
    const spec = withDefaults(checked.canary.spec as CanarySpec);
    const owner = this.hostOwner(record, spec.host);
    if (owner !== undefined) {
      // No routing at all: a second route for the host would make every filter refuse the table.
      Object.assign(record, { spec: undefined, state: undefined });
      const message = `spec.host: ${spec.host} is already split by Canary ${owner}; delete one of them`;
      await this.reportNotReady(record, "Conflict", message, now);
      return;
    }
    record.invalid = undefined;
    await this.keepFinalizer(record, spec);
    const plan = planRollout(spec);
    const state = record.state ?? (await this.restore(record, spec, now));
    record.spec = spec;
    state.plan = plan;

    const pending = pendingCommand(object.metadata.annotations?.[COMMAND_ANNOTATION], record.lastCommand);
    const series = readStepSeries(this.deps.reader, id, state, now);
    record.stepSeries = series;
    const obs: Observation = {
      revision: revisionOf(spec, object.metadata.annotations),
      generation: object.metadata.generation,
      meshReady: await this.meshReady(record, spec, state, now),
      analysis: analyseStep(this.deps.reader, id, spec, state, now, series),
      comparison: compareStep(this.deps.reader, id, spec, state, now, series),
      canaryRequestsRecent: recentCanaryRequests(this.deps.reader, id, state, now),
      ...this.weightsApplied(record, now),
      ...(pending.kind === "command" ? { command: pending.command } : {}),
      freshMarker: newVariantMarker(),
      gates: this.deps.gates?.take(id),
    };
    if (pending.kind !== "none") record.lastCommand = pending.value;
    if (obs.analysis) this.deps.onAnalysis?.(id, now, state.step, obs.analysis);
    if (pending.kind === "invalid") {
      record.commandResult = {
        command: pending.value,
        result: "Invalid",
        message: pending.error,
        at: rfc3339(now),
      };
      await this.deps.runner.event(object, {
        type: "Warning",
        reason: "InvalidCommand",
        message: pending.error,
      });
    }

    const next = advance(state, obs, now);
    record.state = next.state;
    await this.run(record, next.actions, now);
    await this.reconcileRouting(record, now);
    await this.persist(record, now);
    record.stepSeries = undefined;
    this.deps.gates?.poll(object, spec, record.state, now);
  }

  private async run(record: CanaryRecord, actions: Action[], now: number): Promise<void> {
    const { object } = record;
    for (const action of actions) {
      switch (action.kind) {
        case "setWeights":
          this.deps.logger.info(
            {
              canary: idOf(object),
              version: action.version,
              variants: action.variants,
              reason: action.reason,
            },
            "set weights",
          );
          await this.reconcileRouting(record, now);
          break;
        case "writeStatus":
          // Status reports routing as done, so the mesh goes first (e.g. RolledBack after the restore).
          await this.reconcileRouting(record, now);
          await this.persist(record, now);
          break;
        case "event":
          await this.deps.runner.event(object, action);
          break;
        case "webhook":
          this.deps.runner.webhook((record.spec?.webhooks ?? []) as WebhookTarget[], {
            canary: idOf(object),
            namespace: object.metadata.namespace,
            name: object.metadata.name,
            event: action.event,
            step: action.step,
            canaryWeight: action.canaryWeight,
            message: action.message,
            at: rfc3339(now),
          });
          break;
        case "commandHandled":
          record.commandResult = {
            command: record.lastCommand ?? action.command,
            result: action.applied ? "Applied" : "Refused",
            message: action.message,
            at: rfc3339(now),
          };
          break;
        case "resetAnalysis":
          this.deps.logger.info(
            { canary: idOf(object), step: action.step, reason: action.reason },
            "analysis restarts",
          );
          break;
      }
    }
  }

  /** A rollout this replica has no state for yet: its state from status (or the mesh, see resume). */
  private async restore(record: CanaryRecord, spec: SpecWithDefaults, now: number): Promise<RolloutState> {
    const status = (record.object.status ?? {}) as WrittenStatus;
    const restored = stateFromStatus(planRollout(spec), status);
    const state = await resumeFromMesh(this.deps, record.object, spec, restored, now);
    Object.assign(record, {
      state,
      written: status,
      lastCommand: status.lastCommand,
      commandResult: status.commandResult,
    });
    return state;
  }

  /** Restores a valid, unconflicted, not-deleted Canary's rollout so the next table includes it. */
  private async restoreForRouting(record: CanaryRecord, now: number): Promise<void> {
    const { object } = record;
    if (object.metadata.deletionTimestamp) return;
    const { apiVersion, kind, metadata, spec: raw } = object;
    const checked = validateCanary({ apiVersion, kind, metadata, spec: raw });
    if (!checked.ok) return;
    const spec = withDefaults(checked.canary.spec as CanarySpec);
    if (this.hostOwner(record, spec.host) !== undefined) return;
    await this.restore(record, spec, now);
    record.spec = spec;
  }

  /** Adds or removes the revert finalizer to match spec.revertOnDeletion, once per object version. */
  private async keepFinalizer(record: CanaryRecord, spec: SpecWithDefaults): Promise<void> {
    const { object } = record;
    const wanted = finalizersWanted(object.metadata.finalizers ?? [], spec.revertOnDeletion !== false);
    if (wanted === undefined || record.finalizersAskedAt === object.metadata.resourceVersion) return;
    record.finalizersAskedAt = object.metadata.resourceVersion;
    await this.deps.runner.setFinalizers(object, wanted);
  }

  /**
   * A deleted Canary holding our finalizer: leaves the VirtualService as the rollout's end would,
   * then releases the object. A failure the API may recover from keeps the finalizer for the next
   * tick; one it cannot (VirtualService gone, route edited by someone else) is reported and released.
   */
  private async finalize(
    record: CanaryRecord,
    spec: SpecWithDefaults | undefined,
    now: number,
  ): Promise<void> {
    const { object } = record;
    const finalizers = object.metadata.finalizers ?? [];
    if (
      !finalizers.includes(REVERT_FINALIZER) ||
      record.finalizersAskedAt === object.metadata.resourceVersion
    )
      return;
    const state = spec && (record.state ?? stateFromStatus(planRollout(spec), object.status as CanaryStatus));
    const intent = spec && state && deletionIntent(idOf(object), spec, state);
    let note: EventNote = {
      type: "Normal",
      reason: "RoutingKept",
      message: "deleted; VirtualService left as is",
    };
    if (!this.leftEveryFilter(record, now)) return;
    if (intent) {
      const outcome = await this.deps.runner.applyMesh(object, intent);
      if ("error" in outcome && ["KubeError", "ConflictRetriesExhausted"].includes(outcome.condition)) {
        this.deps.logger.warn(
          { canary: idOf(object), error: outcome.error },
          "revert on deletion: will retry",
        );
        return;
      }
      note =
        "error" in outcome
          ? {
              type: "Warning",
              reason: "RevertFailed",
              message: `deleted; routing not reverted: ${outcome.error}`,
            }
          : deletionNote(intent);
    }
    record.finalizersAskedAt = object.metadata.resourceVersion;
    const rest = finalizers.filter((f) => f !== REVERT_FINALIZER);
    if (!(await this.deps.runner.setFinalizers(object, rest))) {
      record.finalizersAskedAt = undefined;
      return;
    }
    await this.deps.runner.event(object, note);
    // Out of the filters' table now; the informer's delete event drops the record.
    Object.assign(record, { spec: undefined, state: undefined });
    this.publishRouting(now);
  }

  /**
   * Whether every live filter applied a table without this (deleted) canary, or the propagation
   * timeout passed since that table went out. Until then the object stays: a Canary gone from the API
   * while proxies still decide by its route would have its requests marked, and tallied, as its
   * variants after a new Canary for the same host exists (test/mesh-e2e counted 3 of a Canary's
   * requests fewer than its upstream served: marked by the deleted predecessor's route).
   */
  private leftEveryFilter(record: CanaryRecord, now: number): boolean {
    // routeSources leaves out every Canary being deleted.
    const version = this.publishRouting(now);
    record.leaving ??= { version, atMs: now };
    return this.everyFilterOn(record.leaving.version, record.leaving.atMs, now);
  }

  /** Whether every live reporter applied Directive `version`, or the propagation timeout passed since `sinceMs`. */
  private everyFilterOn(version: number, sinceMs: number, now: number): boolean {
    const timeout = this.deps.propagationTimeoutMs ?? 5000;
    const versions = [...this.deps.reader.routingVersions().values()];
    return versions.every((v) => v >= version) || now - sinceMs >= timeout;
  }

  /** Brings the VirtualService and the Directive to what the state wants; repeats only on change or failure. */
  private async reconcileRouting(record: CanaryRecord, now: number): Promise<void> {
    const { spec, state } = record;
    if (!spec || !state) return;
    const directiveVersion = this.publishRouting(now);
    const intent = meshIntentFor(idOf(record.object), spec, state);
    if (intent === undefined) return;
    const key = JSON.stringify(intent);
    const previous = record.routing;
    if (previous && previous.key === key && !("error" in previous.outcome)) {
      previous.version = state.routingVersion;
      return;
    }
    const outcome = await this.deps.runner.applyMesh(record.object, intent);
    if ("error" in outcome)
      this.deps.logger.warn(
        { canary: idOf(record.object), error: outcome.error },
        "VirtualService not applied",
      );
    record.routing = { key, version: state.routingVersion, outcome, directiveVersion, atMs: now };
  }

  private routeSources(): RouteSource[] {
    return this.all().flatMap((r) =>
      r.spec && r.state && !r.object.metadata.deletionTimestamp
        ? [{ canaryId: idOf(r.object), spec: r.spec, state: r.state }]
        : [],
    );
  }

  /** Publishes the table of all canaries when it changed; returns the current Directive version. */
  private publishRouting(now: number): number {
    const { routed } = this.routeCap.cap(this.routeSources());
    const table = routeTable(routed);
    const key = JSON.stringify(table);
    if (key === this.directive.key) return this.directive.version;
    const version = nextDirectiveVersion(this.directive.version, now);
    const refused = this.deps.publish(buildDirective(version, table));
    if (refused) {
      this.deps.logger.error({ error: refused.message }, "directive not published");
      return this.directive.version;
    }
    this.directive = { version, key };
    this.routeCap.publishedTable(routed);
    return version;
  }

  private async meshReady(
    record: CanaryRecord,
    spec: SpecWithDefaults,
    state: RolloutState,
    now: number,
  ): Promise<Observation["meshReady"]> {
    if (!this.routeCap.hasRoute(idOf(record.object), now, () => this.routeSources()))
      return { missing: [this.routeCap.reason()] };
    if (state.phase === "Initializing") {
      const probe = meshIntentFor(idOf(record.object), spec, { ...state, phase: "Progressing", weightBp: 0 });
      return probe ? this.deps.runner.checkMesh(record.object, spec, probe) : undefined;
    }
    const outcome = record.routing?.outcome;
    if (outcome === undefined) return undefined;
    return "error" in outcome ? { missing: [outcome.error] } : true;
  }

  /** The routing version in force: VirtualService written, Directive published, and every live filter on it (or the timeout passed). */
  private weightsApplied(record: CanaryRecord, now: number): Pick<Observation, "weightsApplied"> {
    const r = record.routing;
    if (r === undefined || "error" in r.outcome) return {};
    return this.everyFilterOn(r.directiveVersion, r.atMs, now)
      ? { weightsApplied: { version: r.version } }
      : {};
  }

  /** An LLM canary's share of requests, tokens and cost in the current step (figures: checkpoint cadence). */
  private exposure(record: CanaryRecord, now: number): CanaryStatus["exposure"] {
    const state = record.state;
    const llm = (record.object.spec as { llm?: unknown } | undefined)?.llm;
    if (!state || llm === undefined || state.stepStartedAt === undefined) return undefined;
    if (state.phase !== "Progressing" && state.phase !== "Paused") return undefined;
    const id = idOf(record.object);
    return statusExposure(windowsIn(this.deps.reader, id, state.stepStartedAt, now, record.stepSeries));
  }

  /** Writes status when status-cadence says it is due; announces every change either way. */
  private async persist(record: CanaryRecord, now: number): Promise<void> {
    if (!record.state) return;
    const desired: WrittenStatus = { ...statusFromState(record.state) };
    const exposure = this.exposure(record, now);
    if (exposure !== undefined) desired.exposure = exposure;
    if (record.lastCommand !== undefined) desired.lastCommand = record.lastCommand;
    if (record.commandResult !== undefined) desired.commandResult = record.commandResult;
    const announced = JSON.stringify(desired);
    if (announced !== record.announced) {
      record.announced = announced;
      this.deps.onStatusChanged?.(record);
    }
    const checkpoint = this.deps.statusCheckpointMs ?? STATUS_CHECKPOINT_MS;
    if (!statusWriteDue(record.written, desired, record.writtenAtMs, now, checkpoint)) return;
    const patch = mergePatch(record.written ?? {}, desired) as Record<string, unknown>;
    if (!(await this.deps.runner.writeStatus(record.object, patch))) return;
    record.written = desired;
    record.writtenAtMs = now;
  }

  /**
   * The Canary ("<namespace>/<name>") that owns `host` when it is not `record`: of all Canaries
   * naming the host (any namespace, not being deleted), one whose rollout already started, then
   * the oldest, then the first by id (creation times have one-second resolution).
   */
  private hostOwner(record: CanaryRecord, host: string): string | undefined {
    const started = (r: CanaryRecord) => r.state !== undefined || (r.object.status as CanaryStatus)?.phase;
    const key = (r: CanaryRecord) =>
      `${started(r) ? 0 : 1} ${r.object.metadata.creationTimestamp ?? ""} ${idOf(r.object)}`;
    let owner = record;
    for (const r of this.records.values()) {
      const other = (r.object.spec as { host?: unknown } | undefined)?.host;
      if (r === record || r.object.metadata.deletionTimestamp || typeof other !== "string") continue;
      if (other.toLowerCase() === host.toLowerCase() && key(r) < key(owner)) owner = r;
    }
    return owner === record ? undefined : idOf(owner.object);
  }

  /** Writes Ready=False with `reason` (InvalidSpec, Conflict) and one Warning event, once per message. */
  private async reportNotReady(
    record: CanaryRecord,
    reason: string,
    message: string,
    now: number,
  ): Promise<void> {
    if (record.invalid === `${reason}: ${message}`) return;
    const status = (record.object.status ?? {}) as WrittenStatus;
    const ready: Condition = {
      type: "Ready",
      status: "False",
      reason,
      message,
      lastTransitionTime: rfc3339(now),
    };
    const conditions = [...(status.conditions ?? []).filter((c) => c.type !== "Ready"), ready];
    if (await this.deps.runner.writeStatus(record.object, { conditions })) {
      record.invalid = `${reason}: ${message}`;
      // Remember what status now holds, so the first write after the fix replaces the condition.
      if (record.written) record.written = { ...record.written, conditions };
      this.deps.onStatusChanged?.(record);
      await this.deps.runner.event(record.object, { type: "Warning", reason, message });
    }
  }
}

function deletionNote(intent: MeshIntent): EventNote {
  return intent.finalSubset !== undefined
    ? {
        type: "Normal",
        reason: "RoutingKept",
        message: `deleted; VirtualService kept on subset ${intent.finalSubset}`,
      }
    : {
        type: "Normal",
        reason: "RoutingRestored",
        message: "deleted; VirtualService restored to its original route",
      };
}
