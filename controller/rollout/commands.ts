/** Operator commands: when each applies, and what it does to the rollout. */
import type { Phase } from "../spec/schema.js";
import { completeStep, pause, promoteWhenConfirmed, restart, rollBack, startStep } from "./phase-moves.js";
import { event, setWeights, type Tick, transition } from "./tick.js";
import type { Command, RolloutState } from "./types.js";

/** Phases a rollout stays in until a command (retry, undo) or a new revision moves it. */
export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set(["Succeeded", "RolledBack", "Aborted"]);

/** Why a command cannot apply in a phase, or undefined when it applies; the API answers 409 with it. */
export function commandRefusal(
  command: Command,
  { phase, pausedBy, weightBp }: Pick<RolloutState, "phase" | "pausedBy" | "weightBp">,
): string | undefined {
  const where = pausedBy === undefined ? phase : `${phase} (paused for ${pausedBy})`;
  const refuse = (applies: boolean, when: string) =>
    applies ? undefined : `${command} does not apply in phase ${where}: it applies ${when}`;
  switch (command) {
    case "abort":
      return refuse(
        !TERMINAL_PHASES.has(phase),
        "while a rollout runs (not after Succeeded, RolledBack or Aborted)",
      );
    case "promote":
    case "promote-full":
      if (pausedBy === "gate")
        return `${command} does not apply in phase ${where}: the confirm-promotion gates decide; remove them from spec.gates to promote without them`;
      return refuse(phase === "Progressing" || phase === "Paused", "in Progressing or Paused");
    case "approve":
      return refuse(phase === "Paused" && pausedBy === "approval", "in Paused (paused for approval)");
    case "pause":
      return refuse(phase === "Progressing", "in Progressing");
    case "resume":
      return refuse(phase === "Paused" && pausedBy === "manual", "in Paused (paused by `pause`)");
    case "retry":
      return refuse(phase === "RolledBack" || phase === "Aborted", "after RolledBack or Aborted");
    case "undo":
      // Also while a switch to 100% is still watched (blue-green's scrutiny window): switch back.
      return refuse(
        weightBp === 10000 && ["Succeeded", "Progressing", "Paused", "Promoting"].includes(phase),
        "once all traffic is on the canary (a promotion or a blue-green switch)",
      );
  }
}

/** Applies `command`, or refuses it with a Warning; either way a commandHandled action. */
export function applyCommand(t: Tick, command: Command): void {
  const refusal = commandRefusal(command, t.s);
  if (refusal !== undefined) {
    event(t, "Warning", "CommandRefused", refusal);
    handled(t, command, false, refusal);
    return;
  }
  COMMAND_RULES[command](t);
  // Every command rule makes a transition; its reason says what the command did (the message
  // already moves on to what comes next).
  handled(t, command, true, t.s.history.at(-1)!.reason);
}

const COMMAND_RULES: Record<Command, (t: Tick) => void> = {
  abort,
  promote: (t) => {
    t.s.pausedBy = undefined;
    completeStep(t, "promoted by operator");
  },
  "promote-full": (t) => promoteWhenConfirmed(t, "fully promoted by operator: remaining steps skipped"),
  approve: (t) => {
    t.s.pausedBy = undefined;
    completeStep(t, "approved by operator");
  },
  pause: (t) => pause(t, "manual", "paused by operator"),
  resume: (t) => {
    t.s.pausedBy = undefined;
    // Paused at 0% by the progress deadline: the step starts over at its weight.
    if (t.s.weightBp !== t.s.plan.steps[t.s.step]!.weightBp) startStep(t, t.s.step, "resumed by operator");
    else transition(t, "Progressing", "resumed by operator");
  },
  retry: (t) => {
    restart(t);
    transition(t, "Initializing", "retried by operator: the rollout starts again from step 1");
  },
  undo: (t) => {
    t.s.undone = true;
    rollBack(t, "undone by operator: all traffic back to the stable subset");
  },
};

function handled(t: Tick, command: Command, applied: boolean, message: string): void {
  t.actions.push({ kind: "commandHandled", command, applied, message });
}

function abort(t: Tick): void {
  t.s.pausedBy = undefined;
  if (t.s.weightBp !== 0) setWeights(t, 0, "aborted by operator");
  transition(t, "Aborted", "aborted by operator; all traffic on the stable subset");
}
