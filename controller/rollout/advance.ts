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
 */
import type { Condition, Phase } from "../spec/schema.js";
import { gateVerdict, hasGates, openGates, openGateType, recordResults } from "./gates.js";
import { rfc3339, statusFromState, variants } from "./status.js";
import { experimentEnd, experimentReport } from "./experiment.js";
import type { Action, AnalysisResult, Command, Observation, RolloutState } from "./types.js";

/** How many transitions status.history keeps. */
export const HISTORY_LIMIT = 20;

/** Phases a rollout stays in until a command (retry, undo) or a new revision moves it. */
export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set(["Succeeded", "RolledBack", "Aborted"]);

/** A tick in progress: the next state being built and the actions so far. */
interface Tick {
  s: RolloutState;
  obs: Observation;
  now: number;
  actions: Action[];
}

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

const PHASE_RULES: Record<Phase, (t: Tick) => void> = {
  Initializing: initializing,
  Progressing: progressing,
  Paused: paused,
  Promoting: (t) => whenConfirmed(t, "Succeeded", "all traffic goes to the canary subset"),
  RollingBack: (t) => whenConfirmed(t, "RolledBack", "all traffic is back on the stable subset"),
  Succeeded: () => {},
  RolledBack: () => {},
  Aborted: () => {},
};

function initializing(t: Tick): void {
  const { plan } = t.s;
  if (plan.unsupported !== undefined) {
    if (t.s.message !== plan.unsupported) {
      t.s.message = plan.unsupported;
      event(t, "Warning", "StrategyNotSupported", plan.unsupported);
    }
    return;
  }
  const gates = gateVerdict(t.s.gates, plan.gates, "pre-rollout");
  if (gates.kind === "fail") {
    decide(t, "rollback", gates.why);
    // No canary traffic was ever routed: nothing to take back, so no RollingBack.
    transition(t, "RolledBack", gates.why);
    return;
  }
  const mesh = t.obs.meshReady;
  if (mesh === true) {
    const gated = hasGates(plan, "pre-rollout");
    if (gates.kind === "wait") t.s.message = `waiting for ${gates.why}`;
    else startStep(t, 0, gated ? "mesh ready, pre-rollout gates passed" : "mesh ready");
    return;
  }
  if (mesh !== undefined) t.s.message = `waiting for the mesh: missing ${mesh.missing.join(", ")}`;
  else if (t.s.message === "") t.s.message = "waiting for the mesh to be ready";
}

function progressing(t: Tick): void {
  if (t.s.plan.strategy === "abTest") {
    experimenting(t);
    return;
  }
  if (failed(t)) return;
  if (!stepClockRunning(t)) return;
  const step = t.s.plan.steps[t.s.step]!;
  // A shadow step shows its comparison with stable as it builds up, like an A/B test.
  if (step.mirrorBp !== undefined && t.obs.comparison !== undefined) t.s.report = reportNow(t, true);
  const elapsed = t.now - t.s.stepStartedAt!;
  if (missedDeadline(t, elapsed)) return;
  if (elapsed < step.holdMs) {
    const until = rfc3339(t.s.stepStartedAt! + step.holdMs);
    t.s.message =
      t.s.plan.strategy === "blueGreen" && step.weightBp === 10000
        ? `switched: all traffic on the canary; scrutiny window until ${until}, old version kept until then (undo switches back)`
        : `${stepLabel(t.s)}: holding until ${until}`;
    decide(t, "hold", "minimum step time not reached");
    return;
  }
  if (step.gate === "time") {
    completeStep(t, step.weightBp === 10000 ? "scrutiny window over" : "step time elapsed");
    return;
  }
  if (step.gate === "approval") {
    pause(t, "approval", `${stepLabel(t.s)} awaits approval`);
    return;
  }
  const analysis = t.obs.analysis;
  if (analysis?.verdict === "pass") {
    decide(t, "advance", analysis.reason);
    completeStep(t, `analysis passed: ${analysis.reason}`);
    return;
  }
  const max = t.s.plan.maxStepMs;
  const why = analysis === undefined ? "no analysis yet" : `analysis inconclusive: ${analysis.reason}`;
  if (max !== undefined && elapsed >= max) {
    decide(t, "pause", why);
    pause(t, "approval", `${stepLabel(t.s)}: ${why} after maxStepDuration; approve to continue or abort`);
    return;
  }
  t.s.message = `${stepLabel(t.s)}: waiting, ${why}`;
  decide(t, "hold", why);
}

/**
 * A step whose canary serves traffic but whose analysis has had no canary request counted for the
 * progress deadline (filters not reporting, traffic not reaching the canary subset) is not left at
 * its weight: it rolls back, or pauses at 0% until `resume` re-applies the step. True when it did.
 */
function missedDeadline(t: Tick, elapsed: number): boolean {
  const { plan } = t.s;
  const step = plan.steps[t.s.step]!;
  if (step.gate !== "analysis" || t.s.weightBp === 0 || elapsed < plan.progressDeadlineMs) return false;
  if (t.obs.canaryRequestsRecent === undefined || t.obs.canaryRequestsRecent > 0) return false;
  const why = `no canary requests counted for the progress deadline (${plan.progressDeadlineMs / 1000}s) at ${stepLabel(t.s)}`;
  decide(t, plan.onProgressDeadline === "rollback" ? "rollback" : "pause", why);
  if (plan.onProgressDeadline === "rollback") {
    rollBack(t, why);
    return true;
  }
  setWeights(t, 0, `progress deadline: ${why}`);
  pause(t, "manual", `${why}; paused at 0%, resume to retry the step`);
  return true;
}

/**
 * An A/B step: runs its fixed split with a live report in status until experimentEnd says it is
 * over; a failing comparison ends the test with its report, it does not roll back.
 */
function experimenting(t: Tick): void {
  if (!stepClockRunning(t)) return;
  const step = t.s.plan.steps[t.s.step]!;
  const elapsed = t.now - t.s.stepStartedAt!;
  const end = experimentEnd(t.s.plan, t.obs.analysis, elapsed, step.holdMs);
  if (end === undefined) {
    t.s.report = reportNow(t, true);
    const verdict = t.obs.analysis?.verdict ?? "not yet available";
    t.s.message = `${stepLabel(t.s)}: A/B test until ${rfc3339(t.s.stepStartedAt! + step.holdMs)}; comparison ${verdict}`;
    return;
  }
  decide(t, end.finish === "promote" ? "advance" : "report", end.why);
  if (end.finish === "report") {
    finishWithReport(t, end.why);
    return;
  }
  t.s.report = reportNow(t, false);
  promote(t, `${end.why}; promotion asked by the spec`);
}

function reportNow(t: Tick, live: boolean): Record<string, unknown> {
  return experimentReport({
    strategy: t.s.plan.strategy,
    weightBp: t.s.weightBp,
    startedAtMs: t.s.stepStartedAt,
    nowMs: t.now,
    analysis: t.obs.analysis ?? decisionAsAnalysis(t.s),
    comparison: t.obs.comparison,
    live,
  });
}

function paused(t: Tick): void {
  if (t.s.plan.strategy !== "abTest" && failed(t)) return;
  stepClockRunning(t);
  if (t.s.pausedBy !== "gate") return;
  const gates = gateVerdict(t.s.gates, t.s.plan.gates, "confirm-promotion");
  if (gates.kind === "pass") promote(t, "confirm-promotion gates passed");
  else t.s.message = `promotion awaits ${gates.why}`;
}

/** Starts the step clock once the mesh confirms the step's routing version; true while it runs. */
function stepClockRunning(t: Tick): boolean {
  if (t.s.stepStartedAt !== undefined) return true;
  const applied = t.obs.weightsApplied?.version ?? -1;
  if (applied < t.s.routingVersion) {
    if (t.s.phase === "Progressing") {
      t.s.message = `${stepLabel(t.s)}: waiting for routing version ${t.s.routingVersion} to reach the mesh`;
    }
    return false;
  }
  t.s.stepStartedAt = t.now;
  t.s.analysisState = undefined;
  t.actions.push({ kind: "resetAnalysis", step: t.s.step, reason: `${stepLabel(t.s)} in force` });
  if (t.s.phase === "Progressing") t.s.message = `${stepLabel(t.s)}: analysing`;
  return t.s.phase === "Progressing";
}

/** An analysis fail rolls back; true when it did. */
function failed(t: Tick): boolean {
  const analysis = t.obs.analysis;
  if (analysis?.verdict !== "fail") return false;
  decide(t, "rollback", analysis.reason);
  rollBack(t, `analysis failed: ${analysis.reason}`);
  return true;
}

function whenConfirmed(t: Tick, next: Phase, what: string): void {
  const applied = t.obs.weightsApplied?.version ?? -1;
  if (applied >= t.s.routingVersion)
    transition(t, next, `routing version ${t.s.routingVersion} in force: ${what}`);
}

function startStep(t: Tick, index: number, why: string): void {
  const step = t.s.plan.steps[index]!;
  Object.assign(t.s, { step: index, stepStartedAt: undefined, pausedBy: undefined });
  setWeights(t, step.weightBp, `step ${index + 1}: ${why}`);
  transition(t, "Progressing", `${stepLabel(t.s)}: ${why}`);
  t.s.message = `${stepLabel(t.s)}: waiting for routing version ${t.s.routingVersion} to reach the mesh`;
}

function completeStep(t: Tick, why: string): void {
  if ((t.s.report as { live?: unknown } | undefined)?.live === true) t.s.report = reportNow(t, false);
  const next = t.s.step + 1;
  if (next < t.s.plan.steps.length) {
    startStep(t, next, why);
    return;
  }
  if (t.s.plan.finish === "promote") {
    promoteWhenConfirmed(t, `all steps done: ${why}`);
    return;
  }
  finishWithReport(t, why);
}

function promote(t: Tick, why: string): void {
  t.s.pausedBy = undefined;
  setWeights(t, 10000, `promote: ${why}`);
  transition(t, "Promoting", why);
}

/** Promotes, or first pauses for the confirm-promotion gates when there are any. */
function promoteWhenConfirmed(t: Tick, why: string): void {
  if (!hasGates(t.s.plan, "confirm-promotion")) {
    promote(t, why);
    return;
  }
  pause(t, "gate", `${why}; promotion awaits the confirm-promotion gates`);
}

function rollBack(t: Tick, why: string): void {
  t.s.pausedBy = undefined;
  setWeights(t, 0, `roll back: ${why}`);
  transition(t, "RollingBack", why);
}

function finishWithReport(t: Tick, why: string): void {
  t.s.report = reportNow(t, false);
  setWeights(t, 0, `test finished: ${why}`);
  transition(t, "Succeeded", `test finished (${why}); report in status.report, traffic back on stable`);
}

function decisionAsAnalysis(s: RolloutState): AnalysisResult | undefined {
  const d = s.lastDecision;
  if (d === undefined) return undefined;
  const verdict = d.action === "advance" ? "pass" : d.action === "rollback" ? "fail" : "inconclusive";
  return { verdict, reason: d.reason, checks: d.checks };
}

function pause(t: Tick, by: NonNullable<RolloutState["pausedBy"]>, why: string): void {
  t.s.pausedBy = by;
  transition(t, "Paused", why);
}

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

function applyCommand(t: Tick, command: Command): void {
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

/** Back to the start of the plan: step 1, fresh analysis, no report. */
function restart(t: Tick): void {
  Object.assign(t.s, { step: 0, stepStartedAt: undefined, pausedBy: undefined, report: undefined });
  // A marker learned during an earlier rollout must not route this one.
  if (t.obs.freshMarker !== undefined) t.s.marker = t.obs.freshMarker;
  t.s.analysisState = undefined;
  t.s.undone = undefined;
}

function handled(t: Tick, command: Command, applied: boolean, message: string): void {
  t.actions.push({ kind: "commandHandled", command, applied, message });
}

function abort(t: Tick): void {
  t.s.pausedBy = undefined;
  if (t.s.weightBp !== 0) setWeights(t, 0, "aborted by operator");
  transition(t, "Aborted", "aborted by operator; all traffic on the stable subset");
}

function setWeights(t: Tick, canaryBp: number, reason: string): void {
  t.s.weightBp = canaryBp;
  t.s.routingVersion += 1;
  t.actions.push({ kind: "setWeights", version: t.s.routingVersion, variants: variants(canaryBp), reason });
}

function transition(t: Tick, to: Phase, reason: string): void {
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

function event(t: Tick, type: "Normal" | "Warning", reason: string, message: string): void {
  t.actions.push({ kind: "event", type, reason, message });
}

/** Records the decision taken on an analysis verdict, when it differs from the last one recorded. */
function decide(t: Tick, action: string, reason: string): void {
  const checks = t.obs.analysis?.checks ?? [];
  const last = t.s.lastDecision;
  const key = (a: string, r: string, c: typeof checks) =>
    JSON.stringify([a, r, c.map((x) => [x.name, x.verdict])]);
  if (last !== undefined && key(last.action, last.reason, last.checks) === key(action, reason, checks))
    return;
  t.s.lastDecision = { at: rfc3339(t.now), action, reason, checks };
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

function observeConditions(t: Tick): void {
  const mesh = t.obs.meshReady;
  if (mesh !== undefined) {
    const missing = mesh === true ? "" : mesh.missing.join(", ");
    setCondition(t, {
      type: "VirtualServiceReady",
      ...(mesh === true ? { status: "True", reason: "Ready" } : { status: "False", reason: "Missing" }),
      message: mesh === true ? "VirtualService and subsets present" : `missing ${missing}`,
    });
  }
  const analysis = t.obs.analysis;
  if (analysis !== undefined) {
    if (analysis.state !== undefined) t.s.analysisState = analysis.state;
    const status = analysis.verdict === "pass" ? "True" : analysis.verdict === "fail" ? "False" : "Unknown";
    const reason = { pass: "Pass", fail: "Fail", inconclusive: "Inconclusive" }[analysis.verdict];
    setCondition(t, { type: "AnalysisPassing", status, reason, message: analysis.reason });
    const srm = analysis.sampleRatioMismatch;
    // Added on the first mismatch; afterwards kept and flipped to False once the share matches.
    if (srm || t.s.conditions.some((c) => c.type === "SampleRatioMismatch"))
      setCondition(t, {
        type: "SampleRatioMismatch",
        ...(srm
          ? { status: "True", reason: "SampleRatioMismatch", message: `${srm}; no pass until it matches` }
          : {
              status: "False",
              reason: "ShareMatchesWeight",
              message: "canary share of requests consistent with its weight",
            }),
      });
  }
}

function readyCondition(s: RolloutState): Omit<Condition, "lastTransitionTime"> {
  const message = s.message;
  switch (s.phase) {
    case "Initializing":
      return {
        type: "Ready",
        status: "False",
        reason: s.plan.unsupported ? "StrategyNotSupported" : "Initializing",
        message,
      };
    case "RollingBack":
    case "RolledBack":
    case "Aborted":
      return { type: "Ready", status: "False", reason: s.phase, message };
    default:
      return { type: "Ready", status: "True", reason: s.phase, message };
  }
}

/** Sets a condition; lastTransitionTime changes only when its status does. */
function setCondition(t: Tick, next: Omit<Condition, "lastTransitionTime">): void {
  const current = t.s.conditions.find((c) => c.type === next.type);
  const since =
    current !== undefined && current.status === next.status ? current.lastTransitionTime : rfc3339(t.now);
  const condition = { ...next, lastTransitionTime: since };
  const others = t.s.conditions.filter((c) => c.type !== next.type);
  t.s.conditions = [...others, condition].sort((a, b) => a.type.localeCompare(b.type));
}

function stepLabel(s: RolloutState): string {
  return `step ${s.step + 1}/${s.plan.steps.length} at ${s.weightBp / 100}%`;
}
