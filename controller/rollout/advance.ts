/**
 * The rollout state machine: advance(state, observation, now) → { state, actions }. Pure and total.
 *
 * Rules (the tests in test/rollout/ are the table of them):
 * - A new revision restarts any phase at Initializing with 0% canary. Commands come next, then the
 *   phase's own rule; an operator's command therefore wins over an analysis verdict in the same tick.
 * - Initializing waits for the mesh (VirtualService, subsets), then starts step 0.
 * - A step sets its weight (new routing version) and its clock starts only when the mesh confirms
 *   that version; analysis restarts then (resetAnalysis). After the step's hold time
 *   (max(minStepDuration, pause)) its gate decides: `analysis` needs a pass; `approval` pauses for
 *   `approve`; `time` moves on. An analysis still inconclusive after maxStepDuration pauses for
 *   approval (thin data never fails and never promotes by itself); without maxStepDuration it holds.
 * - An analysis fail in Progressing or Paused → RollingBack (0% canary at once) → RolledBack when the
 *   mesh confirms. `abort` → Aborted with 0% canary, at once.
 * - After the last step: `promote` plans go Promoting (100% canary) → Succeeded when confirmed;
 *   Succeeded means the target route sends all traffic to the canary subset. `report` plans (abTest)
 *   go straight to Succeeded with 0% canary and the comparison report in status.
 * - `promote` (Progressing, Paused) completes the current step without its gate (the next step, or
 *   Promoting after the last); `promote-full` skips every remaining step; `pause` (Progressing)
 *   → Paused(manual), `resume` undoes it; `approve` releases Paused(approval); `retry` (RolledBack,
 *   Aborted) starts again at Initializing, step 1; `undo` (Succeeded at 100%) → RollingBack → RolledBack
 *   with the target route on the stable subset. Every command ends in a commandHandled action: what it
 *   did, or why it does not apply in the current phase (then it changes nothing else but a Warning event).
 * - Gating webhooks (gates.ts): pre-rollout gates must pass before step 1 starts (failureLimit
 *   failures roll back); every promotion (after the last step, `promote`, `promote-full`) first
 *   pauses for the confirm-promotion gates (Paused, pausedBy gate) until all pass; analysis still
 *   rolls back meanwhile, and promote commands are refused there. post-rollout gates are opened
 *   when the rollout ends; their answers are recorded only.
 * - Every transition goes to status history, an Event and a webhook action; status is written
 *   only when it changed.
 * Here: the order of a tick. The rules live in phase-rules.ts, the operator's commands in
 * commands.ts, the moves both share in phase-moves.ts, status.conditions in status-conditions.ts.
 */
import { applyCommand } from "./commands.js";
import { openGateType, recordResults } from "./gates.js";
import { restart } from "./phase-moves.js";
import { PHASE_RULES } from "./phase-rules.js";
import { statusFromState } from "./status.js";
import { observeConditions, readyCondition, setCondition } from "./status-conditions.js";
import { event, setWeights, type Tick, transition } from "./tick.js";
import type { Action, Observation, RolloutState } from "./types.js";
/** The next state and the actions that carry it out, from the state, one observation and the time. */
export function advance(
  state: RolloutState,
  obs: Observation,
  now: number,
): { state: RolloutState; actions: Action[] } {
  const t: Tick = { s: structuredClone(state), obs, now, actions: [] };
  if (t.s.marker === undefined) t.s.marker = obs.freshMarker;
  observeRevision(t);
  if (obs.generation !== undefined) t.s.observedGeneration = obs.generation;
  observeConditions(t);
  observeGates(t);
  if (obs.command !== undefined) applyCommand(t, obs.command);
  PHASE_RULES[t.s.phase](t);
  setCondition(t, readyCondition(t.s));
  const before = JSON.stringify(statusFromState(state));
  const after = statusFromState(t.s);
  if (JSON.stringify(after) !== before) t.actions.push({ kind: "writeStatus", patch: after });
  return { state: t.s, actions: t.actions };
}

/** A new revision restarts the rollout from Initializing at 0%. */
function observeRevision(t: Tick): void {
  const revision = t.obs.revision;
  if (revision === undefined || revision === t.s.revision) return;
  const previous = t.s.revision;
  t.s.revision = revision;
  if (previous === undefined) return;
  if (t.s.weightBp !== 0) setWeights(t, 0, `new revision ${revision}`);
  restart(t);
  transition(t, "Initializing", `new revision ${revision} replaces ${previous}; restarting`);
}

/** Records gate answers; a change of a gate's result is an Event. */
function observeGates(t: Tick): void {
  if (t.obs.gates === undefined || t.obs.gates.length === 0) return;
  const { gates, changed } = recordResults(t.s.gates, t.s.plan.gates, openGateType(t.s), t.obs.gates);
  t.s.gates = gates;
  for (const g of changed) {
    const passed = g.result === "Passed";
    event(
      t,
      passed ? "Normal" : "Warning",
      passed ? "GatePassed" : "GateFailed",
      `${g.type} gate ${g.name}: ${g.message}`,
    );
  }
}
