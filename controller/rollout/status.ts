/**
 * RolloutState ⇄ Canary.status. The status holds the whole progress, so a restarted controller
 * resumes exactly where it stopped: stateFromStatus(plan, statusFromState(s)) equals s.
 */
import type { CanaryStatus, GateStatus } from "../spec/schema.js";
import type { GateState } from "./gates.js";
import type { RolloutPlan } from "./plan.js";
import type { RolloutState, VariantWeight } from "./types.js";

/** The state a Canary's status describes; an empty status is a rollout that has not started. */
export function stateFromStatus(plan: RolloutPlan, status: CanaryStatus | undefined): RolloutState {
  const s = status ?? {};
  return dropUndefined({
    plan,
    phase: s.phase ?? "Initializing",
    step: s.step ?? 0,
    stepStartedAt: s.stepStartedAt === undefined ? undefined : Date.parse(s.stepStartedAt),
    weightBp: s.weightBp ?? 0,
    routingVersion: s.routingVersion ?? 0,
    pausedBy: s.pausedBy,
    revision: s.revision,
    observedGeneration: s.observedGeneration,
    message: s.message ?? "",
    conditions: s.conditions ?? [],
    lastDecision: s.lastDecision,
    history: s.history ?? [],
    analysisState: s.analysisState,
    report: s.report,
    undone: s.undone,
    marker: s.variantMarker,
    gates: s.gates?.map((g) =>
      dropUndefined({
        ...g,
        since: Date.parse(g.since),
        at: g.at === undefined ? undefined : Date.parse(g.at),
      }),
    ),
  });
}

/** The status to write for a state. */
export function statusFromState(state: RolloutState): CanaryStatus {
  return dropUndefined({
    phase: state.phase,
    step: state.step,
    stepStartedAt: state.stepStartedAt === undefined ? undefined : rfc3339(state.stepStartedAt),
    canaryWeight: state.weightBp / 100,
    weightBp: state.weightBp,
    routingVersion: state.routingVersion,
    revision: state.revision,
    observedGeneration: state.observedGeneration,
    conditions: state.conditions,
    lastDecision: state.lastDecision,
    message: state.message,
    pausedBy: state.pausedBy,
    history: state.history,
    analysisState: state.analysisState,
    report: state.report,
    undone: state.undone,
    variantMarker: state.marker,
    gates: state.gates?.map(gateStatus),
  });
}

function gateStatus(g: GateState): GateStatus {
  return dropUndefined({ ...g, since: rfc3339(g.since), at: g.at === undefined ? undefined : rfc3339(g.at) });
}

/** The routing a state wants in force; the runner reconciles to it (e.g. after a restart). */
export function desiredRouting(state: RolloutState): {
  version: number;
  variants: VariantWeight[];
  mirrorBp: number;
} {
  return { version: state.routingVersion, variants: variants(state.weightBp), mirrorBp: mirrorBpOf(state) };
}

/** Share of stable's requests mirrored to the canary, basis points: only while a shadow step runs. */
export function mirrorBpOf(state: RolloutState): number {
  if (state.phase !== "Progressing" && state.phase !== "Paused") return 0;
  return state.plan.steps[state.step]?.mirrorBp ?? 0;
}

/** Stable takes what the canary does not. */
export function variants(canaryBp: number): VariantWeight[] {
  return [
    { name: "stable", weightBp: 10000 - canaryBp },
    { name: "canary", weightBp: canaryBp },
  ];
}

export function rfc3339(unixMs: number): string {
  return new Date(unixMs).toISOString();
}

/** Optional fields are absent, not undefined, so a state equals its restored self. */
function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
