// Pure: which decision belongs to the rollout under way, and the past rollouts as rows (no DOM).

import { fmtNumber } from "./format.js";
import { fmtDuration } from "./plan.js";

const TERMINAL = new Set(["Succeeded", "RolledBack", "Aborted"]);

/**
 * The decision to show as the rollout's last: none once the rollout has ended (it moves to the
 * rollout's row) or when it was taken before the rollout under way started (a retry, a new revision).
 * Returns { decision } or { note } saying why there is none.
 */
export function currentDecision(c) {
  if (TERMINAL.has(c.phase))
    return { note: `The rollout ended (${c.phase}); its decisions are under Rollouts.` };
  const d = c.lastDecision;
  const started = c.rollouts?.[0]?.startedAt;
  if (!d || (started && Date.parse(d.at) < Date.parse(started)))
    return { note: "No decision in this rollout yet." };
  return { decision: d };
}

/** One row per rollout, newest first: when, how it ended, how far it went, why. */
export function rolloutRows(rollouts, now) {
  return (rollouts ?? []).map((r) => {
    const start = Date.parse(r.startedAt);
    const end = r.endedAt ? Date.parse(r.endedAt) : now;
    const d = r.finalDecision;
    return {
      startedAt: start,
      phase: r.phase,
      running: !r.endedAt,
      took: fmtDuration(end - start),
      reach: `step ${r.maxStep + 1} · ${fmtNumber(r.maxWeight)}%`,
      why: d ? `${d.action}: ${d.reason}` : r.reason,
    };
  });
}
