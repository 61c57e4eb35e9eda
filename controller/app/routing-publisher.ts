/**
 * The one routing table (Directive) for all canaries, and each canary's VirtualService: both
 * written only when they change (or failed), and whether every live filter is on them yet.
 */
import type { Observation, RolloutState } from "../rollout/types.js";
import type { SpecWithDefaults } from "../spec/defaults.js";
import {
  buildDirective,
  MAX_DIRECTIVE_ROUTES,
  nextDirectiveVersion,
  type RouteSource,
  routeTable,
} from "./directive.js";
import { meshIntentFor } from "./mesh-intent.js";
import type { CanaryRecord, ReconcilerDeps } from "./reconcile-types.js";
import { RouteCap } from "./route-cap.js";
import { idOf } from "./runner.js";

/** Publishes the Directive and applies VirtualServices for the canaries `records` returns. */
export class RoutingPublisher {
  private directive = { version: 0, key: "" };
  private readonly routeCap: RouteCap;

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly records: () => CanaryRecord[],
  ) {
    this.routeCap = new RouteCap(deps.maxRoutes ?? MAX_DIRECTIVE_ROUTES, deps.logger);
  }

  /** New leadership: the next table goes out even when it matches the last one published. */
  forget(): void {
    this.directive.key = "";
  }

  /** Whether every live reporter applied Directive `version`, or the propagation timeout passed since `sinceMs`. */
  everyFilterOn(version: number, sinceMs: number, now: number): boolean {
    const timeout = this.deps.propagationTimeoutMs ?? 5000;
    const versions = [...this.deps.reader.routingVersions().values()];
    return versions.every((v) => v >= version) || now - sinceMs >= timeout;
  }

  /** Brings the VirtualService and the Directive to what the state wants; repeats only on change or failure. */
  async reconcile(record: CanaryRecord, now: number): Promise<void> {
    const { spec, state } = record;
    if (!spec || !state) return;
    const directiveVersion = this.publish(now);
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
    return this.records().flatMap((r) =>
      r.spec && r.state && !r.object.metadata.deletionTimestamp
        ? [{ canaryId: idOf(r.object), spec: r.spec, state: r.state }]
        : [],
    );
  }

  /** Publishes the table of all canaries when it changed; returns the current Directive version. */
  publish(now: number): number {
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

  /** Whether the mesh is ready for this canary: its route fits the table, and its VirtualService is in place. */
  async meshReady(
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
  weightsApplied(record: CanaryRecord, now: number): Pick<Observation, "weightsApplied"> {
    const r = record.routing;
    if (r === undefined || "error" in r.outcome) return {};
    return this.everyFilterOn(r.directiveVersion, r.atMs, now)
      ? { weightsApplied: { version: r.version } }
      : {};
  }
}
