/**
 * The parts of a Canary's detail that say what comes next: the step plan, which operator commands
 * apply now (the state machine's own rule, so the dashboard never guesses) and the gating webhooks
 * with their state. Pure.
 */
import type { GateView, PlanStepView } from "../api/types.js";
import { originOf } from "../notify/http-post.js";
import { commandRefusal } from "../rollout/commands.js";
import { planGates } from "../rollout/gates.js";
import type { RolloutPlan } from "../rollout/plan.js";
import { COMMANDS } from "../rollout/types.js";
import type { SpecWithDefaults } from "../spec/defaults.js";
import type { CanaryStatus } from "../spec/schema.js";

/** The plan's steps in percent. */
export function planView(plan: RolloutPlan): PlanStepView[] {
  return plan.steps.map((s) => ({
    weight: s.weightBp / 100,
    holdMs: s.holdMs,
    gate: s.gate,
    ...(s.mirrorBp !== undefined ? { mirror: s.mirrorBp / 100 } : {}),
  }));
}

/** Every command -> null when it applies in the status's phase, else the refusal the API would give. */
export function commandsView(status: CanaryStatus): Record<string, string | null> {
  const where = {
    phase: status.phase ?? "Initializing",
    pausedBy: status.pausedBy,
    weightBp: status.weightBp ?? 0,
  };
  return Object.fromEntries(COMMANDS.map((c) => [c, commandRefusal(c, where) ?? null]));
}

/** spec.gates in order, each with its state in this attempt when its phase has opened it. */
export function gatesView(spec: SpecWithDefaults, status: CanaryStatus): GateView[] {
  const gates = spec.gates ?? [];
  return planGates(gates).map((g, i) => {
    const s = status.gates?.find((x) => x.name === g.name && x.type === g.type);
    const view: GateView = {
      name: g.name,
      type: g.type,
      origin: originOf(gates[i]!.url),
      failureLimit: g.failureLimit,
    };
    if (s) Object.assign(view, { result: s.result, failures: s.failures, message: s.message });
    if (s?.at) view.at = s.at;
    return view;
  });
}
