/**
 * Each phase's own rule, run after the revision and any command: Initializing waits for the mesh
 * and the pre-rollout gates, Progressing runs the step's clock and gate, Paused waits (and still
 * rolls back on a fail), Promoting and RollingBack wait for the mesh to confirm.
 */
import type { Phase } from "../spec/schema.js";
import { experimentEnd } from "./experiment.js";
import { gateVerdict, hasGates } from "./gates.js";
import {
  completeStep,
  finishWithReport,
  pause,
  promote,
  reportNow,
  rollBack,
  startStep,
} from "./phase-moves.js";
import { rfc3339 } from "./status.js";
import { decide, event, setWeights, stepLabel, type Tick, transition } from "./tick.js";

/** The rule of each phase. */
export const PHASE_RULES: Record<Phase, (t: Tick) => void> = {
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
