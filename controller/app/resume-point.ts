/**
 * Where a rollout resumes when this replica takes it over (start, leadership gained): from its
 * status, or from the VirtualService when the mesh is ahead of status. Routing is written before
 * status, so a controller that stopped while status writes were failing leaves the mesh at a later
 * step than status says; resuming from status would move the weight backwards and enter that step
 * (its Event and webhooks) a second time. Both functions are pure; the reconciler reads the
 * VirtualService and applies the result.
 */
import type { HttpRouteObject } from "../mesh/http-route-types.js";
import { planHttpRoute } from "../mesh/plan-http-route.js";
import { planVirtualService } from "../mesh/plan-virtual-service.js";
import type { MeshIntent, VirtualService } from "../mesh/types.js";
import { rfc3339 } from "../rollout/status.js";
import type { Phase, RolloutState } from "../rollout/types.js";
import { HISTORY_LIMIT } from "../rollout/tick.js";

/** Phases whose weight a later step or the promotion may have overtaken in the mesh. */
const RUNNING: ReadonlySet<Phase> = new Set(["Initializing", "Progressing", "Paused"]);

/** Resume as status says, or take over the step (or promotion) found in force in the mesh. */
export type ResumePoint =
  | { kind: "status"; why: string }
  | { kind: "mesh"; phase: "Progressing" | "Promoting"; step: number; weightBp: number };

/**
 * Canary weights (basis points) the mesh could be ahead at: each step from the current one on whose
 * weight is above status's, then 100% when the plan ends in a promotion. Empty: nothing to read.
 */
export function aheadCandidates(state: RolloutState): number[] {
  if (!RUNNING.has(state.phase)) return [];
  const { steps, finish } = state.plan;
  const weights = steps.slice(state.step).map((s) => s.weightBp);
  if (finish === "promote") weights.push(10000);
  return [...new Set(weights.filter((bp) => bp > state.weightBp))];
}

/** The routing object a Canary drives, as read from the API. */
export type RoutingObject =
  | { kind: "VirtualService"; vs: VirtualService }
  | { kind: "HTTPRoute"; route: HttpRouteObject };

/**
 * The candidate weight the routing object (VirtualService or HTTPRoute) holds exactly as meshcanary renders it for this canary
 * (its routes, the target route's destinations and its state digest), or undefined. Candidates are
 * tried in order, so when two render alike the lower weight wins: never assume more than in force.
 */
export function weightInForce(
  routing: RoutingObject,
  candidates: ReadonlyArray<{ weightBp: number; intent: MeshIntent }>,
): number | undefined {
  for (const c of candidates) {
    const plan =
      routing.kind === "HTTPRoute"
        ? planHttpRoute(routing.route, c.intent)
        : planVirtualService(routing.vs, c.intent);
    if (!("error" in plan) && !plan.changed) return c.weightBp;
  }
  return undefined;
}

/**
 * The decision. The mesh wins only when it is provably this rollout further on: status is running,
 * for the revision being rolled out now, and the weight in force is above status's and equals a
 * later step (or 100% for a promotion). Anything else resumes from status, whose own rules then
 * apply (a new revision restarts; a rollback or abort in status goes to 0% as it should).
 */
export function resumePoint(
  state: RolloutState,
  revision: string,
  inForceBp: number | undefined,
): ResumePoint {
  if (inForceBp === undefined) return { kind: "status", why: "mesh not ahead of status" };
  if (!RUNNING.has(state.phase)) return { kind: "status", why: `status phase ${state.phase}` };
  if (state.revision !== revision)
    return { kind: "status", why: `status is for revision ${state.revision ?? "(none)"}, not ${revision}` };
  if (inForceBp <= state.weightBp) return { kind: "status", why: "mesh not ahead of status" };
  const { steps, finish } = state.plan;
  const step = steps.findIndex((s, i) => i >= state.step && s.weightBp === inForceBp);
  if (step >= 0) return { kind: "mesh", phase: "Progressing", step, weightBp: inForceBp };
  if (inForceBp === 10000 && finish === "promote")
    return { kind: "mesh", phase: "Promoting", step: state.step, weightBp: inForceBp };
  return { kind: "status", why: `weight ${inForceBp / 100}% in force is no step of the plan` };
}

/**
 * The state resumed at the mesh's step: that step's routing (a new routing version, so the step's
 * clock starts once it is confirmed) and fresh analysis. The transition itself happened before the
 * stop (its Event and webhooks went out then), so it is only recorded in history, not announced again.
 */
export function adoptMeshPoint(
  state: RolloutState,
  point: Extract<ResumePoint, { kind: "mesh" }>,
  now: number,
): RolloutState {
  const label =
    point.phase === "Promoting"
      ? "promotion (100%)"
      : `step ${point.step + 1}/${state.plan.steps.length} at ${point.weightBp / 100}%`;
  const reason = `${label} found in force in the VirtualService: status had not caught up when the previous controller stopped; resumed there`;
  const entry = {
    at: rfc3339(now),
    from: state.phase,
    to: point.phase,
    step: point.step,
    weightBp: point.weightBp,
    reason,
  };
  const next: RolloutState = {
    ...state,
    phase: point.phase,
    step: point.step,
    weightBp: point.weightBp,
    routingVersion: state.routingVersion + 1,
    message: reason,
    history: [...state.history, entry].slice(-HISTORY_LIMIT),
  };
  for (const key of ["stepStartedAt", "pausedBy", "analysisState"] as const) delete next[key];
  return next;
}
