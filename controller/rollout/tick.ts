/**
 * A tick in progress and the edits every rule makes to it: weights, phase transitions (with their
 * history entry, Event and webhook), Events and the decision record.
 */
import type { Phase } from "../spec/schema.js";
import { openGates, openGateType } from "./gates.js";
import { rfc3339, variants } from "./status.js";
import type { Action, Observation, RolloutState } from "./types.js";

/** How many transitions status.history keeps. */
export const HISTORY_LIMIT = 20;

/** A tick in progress: the next state being built and the actions so far. */
export interface Tick {
  s: RolloutState;
  obs: Observation;
  now: number;
  actions: Action[];
}

/** Sets the canary's weight: a new routing version and its setWeights action. */
export function setWeights(t: Tick, canaryBp: number, reason: string): void {
  t.s.weightBp = canaryBp;
  t.s.routingVersion += 1;
  t.actions.push({ kind: "setWeights", version: t.s.routingVersion, variants: variants(canaryBp), reason });
}

/** Moves to phase `to`: history entry, Event and webhook; opens the gates the new phase calls for. */
export function transition(t: Tick, to: Phase, reason: string): void {
  const from = t.s.phase;
  t.s.phase = to;
  t.s.message = reason;
  t.s.gates = openGates(t.s.gates, t.s.plan.gates, openGateType(t.s), t.now);
  const entry = { at: rfc3339(t.now), from, to, step: t.s.step, weightBp: t.s.weightBp, reason };
  t.s.history = [...t.s.history, entry].slice(-HISTORY_LIMIT);
  const bad = to === "RollingBack" || to === "RolledBack" || to === "Aborted";
  event(t, bad ? "Warning" : "Normal", to, reason);
  t.actions.push({
    kind: "webhook",
    event: to,
    step: t.s.step,
    canaryWeight: t.s.weightBp / 100,
    message: reason,
  });
}

/** Adds an Event action. */
export function event(t: Tick, type: "Normal" | "Warning", reason: string, message: string): void {
  t.actions.push({ kind: "event", type, reason, message });
}

/** Records the decision taken on an analysis verdict, when it differs from the last one recorded. */
export function decide(t: Tick, action: string, reason: string): void {
  const checks = t.obs.analysis?.checks ?? [];
  const last = t.s.lastDecision;
  const key = (a: string, r: string, c: typeof checks) =>
    JSON.stringify([a, r, c.map((x) => [x.name, x.verdict])]);
  if (last !== undefined && key(last.action, last.reason, last.checks) === key(action, reason, checks))
    return;
  t.s.lastDecision = { at: rfc3339(t.now), action, reason, checks };
}

/** "step i/n at w%", for messages. */
export function stepLabel(s: RolloutState): string {
  return `step ${s.step + 1}/${s.plan.steps.length} at ${s.weightBp / 100}%`;
}
