/**
 * The reconcile loop: every tick, for each Canary the informer knows, validate → plan → restore
 * state (first time) → observe → advance → carry out the actions → persist status, and the reset
 * of all that on new leadership. Only the leader calls tick(). The routing table is
 * routing-publisher.ts's, status writing status-writer.ts's, the finalizer finalizer.ts's.
 */
import type { CanaryObject } from "../kube/canaries.js";
import { COMMAND_ANNOTATION } from "../kube/canaries.js";
import { newVariantMarker } from "../mesh/variant-match.js";
import { advance } from "../rollout/advance.js";
import { planRollout } from "../rollout/plan.js";
import { rfc3339, stateFromStatus } from "../rollout/status.js";
import type { Observation, RolloutState } from "../rollout/types.js";
import { type SpecWithDefaults, withDefaults } from "../spec/defaults.js";
import type { CanarySpec } from "../spec/schema.js";
import { validateCanary } from "../spec/validate.js";
import { pendingCommand } from "./command.js";
import { finalize, keepFinalizer } from "./finalizer.js";
import { hostOwner } from "./host-owner.js";
import type { CanaryRecord, ReconcilerDeps, WrittenStatus } from "./reconcile-types.js";
import { resumeFromMesh } from "./resume.js";
import { revisionOf } from "./revision.js";
import { RoutingPublisher } from "./routing-publisher.js";
import { idOf } from "./runner.js";
import { runActions } from "./run-actions.js";
import { persist, reportNotReady } from "./status-writer.js";
import { analyseStep, compareStep, recentCanaryRequests } from "./step-analysis.js";
import { readStepSeries } from "./step-series.js";

// Callers use the record and the deps with the Reconciler; they live apart only to keep its helpers free of a cycle.
export type { CanaryRecord, ReconcilerDeps } from "./reconcile-types.js";

/** The reconcile loop over every Canary the informer knows. */
export class Reconciler {
  private readonly records = new Map<string, CanaryRecord>();
  /** resetFromStatus was called: the next tick starts by forgetting in-memory progress. */
  private resetPending = false;
  private readonly routing: RoutingPublisher;

  constructor(private readonly deps: ReconcilerDeps) {
    this.routing = new RoutingPublisher(deps, () => this.all());
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
    this.routing.forget();
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
    this.routing.publish(nowMs);
  }

  private async reconcile(record: CanaryRecord, now: number): Promise<void> {
    const { object } = record;
    const spec = await this.runnableSpec(record, now);
    if (spec === undefined) return;
    record.invalid = undefined;
    await keepFinalizer(this.deps, record, spec);
    const plan = planRollout(spec);
    const state = record.state ?? (await this.restore(record, spec, now));
    record.spec = spec;
    state.plan = plan;
    const obs = await this.observe(record, spec, state, now);
    const next = advance(state, obs, now);
    record.state = next.state;
    await runActions(this.deps, this.routing, record, next.actions, now);
    await this.routing.reconcile(record, now);
    await persist(this.deps, record, now);
    record.stepSeries = undefined;
    this.deps.gates?.poll(object, spec, record.state, now);
  }

  /**
   * The valid spec to run this tick, or undefined when there is none: the Canary is being deleted
   * (finalized instead), its spec is invalid, or another Canary already splits its host (both reported).
   */
  private async runnableSpec(record: CanaryRecord, now: number): Promise<SpecWithDefaults | undefined> {
    const { object } = record;
    const checked = validateCanary({
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: object.metadata,
      spec: object.spec,
    });
    if (object.metadata.deletionTimestamp) {
      // An invalid spec at deletion falls back to the last valid one: the object must still go.
      const spec = checked.ok ? withDefaults(checked.canary.spec as CanarySpec) : record.spec;
      await finalize(this.deps, this.routing, record, spec, now);
      return undefined;
    }
    if (!checked.ok) {
      const message = checked.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
      await reportNotReady(this.deps, record, "InvalidSpec", message, now);
      return undefined;
    }
    const spec = withDefaults(checked.canary.spec as CanarySpec);
    const owner = hostOwner(this.records.values(), record, spec.host);
    if (owner !== undefined) {
      // No routing at all: a second route for the host would make every filter refuse the table.
      Object.assign(record, { spec: undefined, state: undefined });
      const message = `spec.host: ${spec.host} is already split by Canary ${owner}; delete one of them`;
      await reportNotReady(this.deps, record, "Conflict", message, now);
      return undefined;
    }
    return spec;
  }

  /** What the state machine sees this tick; also takes the pending command and answers an invalid one. */
  private async observe(
    record: CanaryRecord,
    spec: SpecWithDefaults,
    state: RolloutState,
    now: number,
  ): Promise<Observation> {
    const { object } = record;
    const id = idOf(object);
    const pending = pendingCommand(object.metadata.annotations?.[COMMAND_ANNOTATION], record.lastCommand);
    const series = readStepSeries(this.deps.reader, id, state, now);
    record.stepSeries = series;
    const obs: Observation = {
      revision: revisionOf(spec, object.metadata.annotations),
      generation: object.metadata.generation,
      meshReady: await this.routing.meshReady(record, spec, state, now),
      analysis: analyseStep(this.deps.reader, id, spec, state, now, series),
      comparison: compareStep(this.deps.reader, id, spec, state, now, series),
      canaryRequestsRecent: recentCanaryRequests(this.deps.reader, id, state, now),
      ...this.routing.weightsApplied(record, now),
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
    return obs;
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
    if (hostOwner(this.records.values(), record, spec.host) !== undefined) return;
    await this.restore(record, spec, now);
    record.spec = spec;
  }
}
