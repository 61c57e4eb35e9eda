/**
 * The controller as the HTTP API sees it (ApiBackend): canaries from the reconciler, series from the
 * telemetry reader, commands through the same annotation the CLI writes, and live events: a canary's
 * status after each write, its new decisions, and every complete telemetry window of active canaries.
 */
import { seriesPoint, WINDOW_MS } from "../api/series.js";
import type {
  ApiBackend,
  ApiCommand,
  ApiEvent,
  CanaryDetail,
  CanarySummary,
  CommandResult,
  SeriesPoint,
} from "../api/types.js";
import type { CanaryObject } from "../kube/canaries.js";
import type { KubeResult } from "../kube/errors.js";
import type { EventNote } from "../kube/events.js";
import { commandRefusal, TERMINAL_PHASES } from "../rollout/commands.js";
import type { AnalysisResult } from "../rollout/types.js";
import type { TelemetryReader } from "../telemetry/types.js";
import { detailOf, statusOf, summaryOf } from "./api-views.js";
import { EvidenceLog } from "./evidence-log.js";
import { exposureOf } from "./exposure.js";
import { RolloutLog } from "./rollout-log.js";
import type { CanaryRecord, Reconciler } from "./reconciler.js";

/** Writes the command annotation (requestCommand from controller/kube/canaries.ts, bound to a KubeConfig). */
export type CommandRequester = (
  namespace: string,
  name: string,
  command: ApiCommand,
) => Promise<KubeResult<{ value: string }>>;

export interface ControllerApiBackendDeps {
  /** The canaries this replica knows (the Reconciler). */
  reconciler: Pick<Reconciler, "get" | "all">;
  reader: TelemetryReader;
  requestCommand: CommandRequester;
  /** Records a Kubernetes Event on the Canary (who asked for each command). */
  recordEvent?: (canary: CanaryObject, note: EventNote) => Promise<void>;
  /**
   * Whether this replica is ready: its Canary informer has synced, so it can serve the API and take
   * the lease at once. Every replica is ready, leader or not (the Deployment must become Available
   * and upgradable); standbys refuse telemetry streams (not_serving) and filters retry until their
   * stream lands on the leader.
   */
  isReady(): boolean;
  /** How often complete windows are pushed as series events, ms; default 1000. */
  seriesIntervalMs?: number;
  /** Clock (Unix ms); injectable for tests. */
  now?: () => number;
}

export class ControllerApiBackend implements ApiBackend {
  private readonly listeners = new Set<(e: ApiEvent) => void>();
  /** Per canary: start of the next window to push. */
  private readonly seriesCursor = new Map<string, number>();
  /** Per canary: time of the last decision pushed, so each is pushed once. */
  private readonly decisionAt = new Map<string, string>();
  /** Per canary: e-values of every analysis this replica ran, and its rollouts (both bounded). */
  private readonly evidence = new EvidenceLog();
  private readonly rollouts = new RolloutLog();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: ControllerApiBackendDeps) {
    this.timer = setInterval(() => this.pushSeries(), deps.seriesIntervalMs ?? 1000);
    this.timer.unref();
  }

  listCanaries(): CanarySummary[] {
    return this.deps.reconciler.all().map(summaryOf);
  }

  getCanary(namespace: string, name: string): CanaryDetail | undefined {
    const record = this.deps.reconciler.get(`${namespace}/${name}`);
    if (!record) return undefined;
    const id = `${namespace}/${name}`;
    this.rollouts.observe(id, statusOf(record));
    const rollouts = this.rollouts.view(id);
    // Evidence of the rollout under way only: a retry or a new revision starts from nothing.
    const since = rollouts[0] ? Date.parse(rollouts[0].startedAt) : 0;
    const detail = { ...detailOf(record), rollouts, evidence: this.evidence.view(id, since) };
    const started = record.state?.stepStartedAt;
    if (started === undefined) return detail;
    const windows = this.deps.reader.series(id, started, this.completeUntil());
    return { ...detail, exposure: exposureOf(windows, "canary", "stable") };
  }

  /** The leader analysed a step of the canary: its checks' e-values join the evidence series. */
  analysed(id: string, nowMs: number, step: number, analysis: AnalysisResult): void {
    this.evidence.record(id, nowMs, step, analysis);
  }

  series(namespace: string, name: string, sinceMs: number): SeriesPoint[] {
    return this.deps.reader
      .series(`${namespace}/${name}`, sinceMs, this.completeUntil())
      .map((w) => seriesPoint(w));
  }

  async command(namespace: string, name: string, command: ApiCommand, user: string): Promise<CommandResult> {
    const record = this.deps.reconciler.get(`${namespace}/${name}`);
    if (!record) return { ok: false, status: 404, message: `canary ${namespace}/${name} not found` };
    const status = statusOf(record);
    const refusal = commandRefusal(command, {
      phase: status.phase ?? "Initializing",
      pausedBy: status.pausedBy,
      weightBp: status.weightBp ?? 0,
    });
    if (refusal !== undefined) return { ok: false, status: 409, message: `${namespace}/${name}: ${refusal}` };
    const written = await this.deps.requestCommand(namespace, name, command);
    if (written.ok) {
      await this.deps.recordEvent?.(record.object, {
        type: "Normal",
        reason: "CommandRequested",
        message: `${command} requested by ${user} through the meshcanary API`,
      });
      return { ok: true };
    }
    if (written.error.reason === "NotFound")
      return { ok: false, status: 404, message: `canary ${namespace}/${name} not found` };
    return {
      ok: false,
      status: 503,
      message: `recording the ${command} command failed: ${written.error.message}`,
    };
  }

  ready(): boolean {
    return this.deps.isReady();
  }

  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A canary's status changed (written by this replica, or seen by a follower's informer). */
  statusChanged(record: CanaryRecord): void {
    const canary = summaryOf(record);
    this.emit({ type: "canary", canary });
    const decision = canary.lastDecision;
    const id = `${canary.namespace}/${canary.name}`;
    this.rollouts.observe(id, statusOf(record));
    if (decision && this.decisionAt.get(id) !== decision.at) {
      this.decisionAt.set(id, decision.at);
      this.emit({ type: "decision", namespace: canary.namespace, name: canary.name, decision });
    }
  }

  removed(namespace: string, name: string): void {
    const id = `${namespace}/${name}`;
    this.seriesCursor.delete(id);
    this.decisionAt.delete(id);
    this.evidence.remove(id);
    this.rollouts.remove(id);
    this.emit({ type: "removed", namespace, name });
  }

  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  /** Pushes the windows completed since the last push, for canaries whose rollout is not over (the timer calls it). */
  pushSeries(): void {
    const until = this.completeUntil();
    for (const record of this.deps.reconciler.all()) {
      const { namespace, name } = record.object.metadata;
      const id = `${namespace}/${name}`;
      if (TERMINAL_PHASES.has(statusOf(record).phase ?? "Initializing")) continue;
      // First sight: start at the last complete window rather than replaying history.
      const from = this.seriesCursor.get(id) ?? until - WINDOW_MS;
      this.seriesCursor.set(id, until);
      if (this.listeners.size === 0 || from >= until) continue;
      for (const w of this.deps.reader.series(id, from, until))
        this.emit({ type: "series", namespace, name, point: seriesPoint(w) });
    }
  }

  /** End of the last complete window: the current second is still filling. */
  private completeUntil(): number {
    const now = (this.deps.now ?? Date.now)();
    return Math.floor(now / WINDOW_MS) * WINDOW_MS;
  }

  private emit(event: ApiEvent): void {
    for (const l of this.listeners) l(event);
  }
}
