/** A scripted world for the rollout state machine: a mesh that confirms weights one tick later, and analysis. */
import { advance } from "../../controller/rollout/advance.js";
import type { RolloutPlan } from "../../controller/rollout/plan.js";
import { stateFromStatus, statusFromState } from "../../controller/rollout/status.js";
import type { Action, AnalysisResult, Command, RolloutState } from "../../controller/rollout/types.js";
import type { CanarySpec } from "../../controller/spec/schema.js";

/** A minimal valid spec with the given strategy and analysis. */
export function spec(strategy: CanarySpec["strategy"], analysis?: CanarySpec["analysis"]): CanarySpec {
  return {
    host: "reviews.default.svc.cluster.local",
    virtualService: { name: "reviews" },
    stable: { subset: "v1" },
    canary: { subset: "v2" },
    strategy,
    ...(analysis ? { analysis } : {}),
  };
}

export const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

export const pass = (reason = "canary no worse than stable"): AnalysisResult => ({
  verdict: "pass",
  reason,
  checks: [{ name: "failure-rate", verdict: "pass" }],
});
export const fail = (reason = "failure-rate: canary 5% vs stable 1%"): AnalysisResult => ({
  verdict: "fail",
  reason,
  checks: [{ name: "failure-rate", verdict: "fail" }],
});
export const inconclusive = (reason = "120 of 200 requests"): AnalysisResult => ({
  verdict: "inconclusive",
  reason,
  checks: [{ name: "failure-rate", verdict: "inconclusive" }],
});

export interface World {
  /** Analysis the runner would report for this state at this time. */
  analysis?: (state: RolloutState, now: number) => AnalysisResult | undefined;
  /** Operator command for this state at this tick. */
  command?: (state: RolloutState, tick: number) => Command | undefined;
  /** Serialise to status (through JSON) and restore between every tick, as a restarted controller would. */
  restore?: boolean;
  tickMs?: number;
  maxTicks?: number;
}

export interface TickRecord {
  now: number;
  phase: string;
  step: number;
  weightBp: number;
  actions: Action[];
}

const TERMINAL = new Set(["Succeeded", "RolledBack", "Aborted"]);

/** Runs a rollout to a terminal phase (or maxTicks); returns every tick and the final state. */
export function simulate(plan: RolloutPlan, world: World): { ticks: TickRecord[]; state: RolloutState } {
  let state = stateFromStatus(plan, undefined);
  let confirmed = 0;
  let latest = 0;
  const ticks: TickRecord[] = [];
  for (let i = 0; i < (world.maxTicks ?? 500) && !TERMINAL.has(state.phase); i++) {
    const now = T0 + i * (world.tickMs ?? 5000);
    const obs = {
      revision: "r1",
      meshReady: true as const,
      weightsApplied: { version: confirmed },
      analysis: world.analysis?.(state, now),
      command: world.command?.(state, i),
    };
    const result = advance(state, obs, now);
    confirmed = latest;
    for (const action of result.actions) if (action.kind === "setWeights") latest = action.version;
    const s = result.state;
    ticks.push({ now, phase: s.phase, step: s.step, weightBp: s.weightBp, actions: result.actions });
    state = world.restore ? stateFromStatus(plan, JSON.parse(JSON.stringify(statusFromState(s)))) : s;
  }
  return { ticks, state };
}

/** Canary weights set over a run, in order. */
export function weightsSet(ticks: TickRecord[]): number[] {
  return ticks.flatMap((t) =>
    t.actions.flatMap((a) => (a.kind === "setWeights" ? [a.variants[1]!.weightBp] : [])),
  );
}

/** Phases entered over a run, in order. */
export function phasesEntered(ticks: TickRecord[]): string[] {
  return ticks.flatMap((t) => t.actions.flatMap((a) => (a.kind === "webhook" ? [a.event] : [])));
}
