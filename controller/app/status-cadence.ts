/**
 * When a Canary's status is worth a write. The analysis moves every second (its resumable state, the
 * figures in messages and in the last decision), and writing that each second would cost the API
 * server and etcd one write per second per Canary. So status is written at once when something an
 * operator or a resumed controller acts on changed (phase, step, weights, routing version, a
 * condition's status, a decision's action or verdicts, history, command results, a gate's result),
 * and otherwise only as a checkpoint, at most once per `checkpointMs`. A controller that restarts between
 * checkpoints resumes the analysis from the last one: the evidence gathered since is lost, which
 * only delays a decision (an e-process stays valid on any subset of windows chosen in advance). Pure.
 */
import type { CanaryStatus } from "../spec/schema.js";

/** Default checkpoint interval for changes in figures only. */
export const STATUS_CHECKPOINT_MS = 30_000;

/** The part of a status whose change is written at once: the status without its moving figures. */
export function significantPart(status: CanaryStatus): unknown {
  const {
    analysisState: _state,
    message: _message,
    lastDecision,
    conditions,
    gates,
    report,
    exposure: _exposure,
    ...rest
  } = status;
  // A running test's report moves with every window like the analysis; its verdict does not.
  const running = report as { live?: unknown; verdict?: unknown } | undefined;
  const live = running?.live === true;
  return {
    ...rest,
    report: live ? { live, verdict: running?.verdict } : report,
    conditions: conditions?.map(({ message: _m, ...c }) => c),
    // A gate's result and failure count at once; the wording and time of each repeated answer not.
    gates: gates?.map(({ message: _m, at: _at, ...g }) => g),
    decision: lastDecision && {
      action: lastDecision.action,
      checks: lastDecision.checks.map((c) => [c.name, c.verdict]),
    },
  };
}

/** Whether `desired` is to be written now, given what was written last and when. */
export function statusWriteDue(
  written: CanaryStatus | undefined,
  desired: CanaryStatus,
  lastWriteMs: number | undefined,
  nowMs: number,
  checkpointMs: number = STATUS_CHECKPOINT_MS,
): boolean {
  if (JSON.stringify(desired) === JSON.stringify(written ?? {})) return false;
  if (written === undefined || lastWriteMs === undefined) return true;
  if (JSON.stringify(significantPart(desired)) !== JSON.stringify(significantPart(written))) return true;
  return nowMs - lastWriteMs >= checkpointMs;
}
