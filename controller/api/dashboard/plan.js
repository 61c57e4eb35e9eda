// Pure: the step plan with the current step marked and the time left in it (no DOM).

import { fmtNumber } from "./format.js";

const TERMINAL = new Set(["Succeeded", "RolledBack", "Aborted"]);

/** "1m 05s", "42s", "2h 03m": a duration in ms, rounded up to the second. */
export function fmtDuration(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

/** What the current step waits for, in words; `now` is Unix ms. */
function currentNote(c, step, now) {
  if (c.phase === "Paused") return "paused";
  if (c.phase === "Initializing") return "starting";
  if (c.phase === "Promoting") return "promoting";
  if (c.phase === "RollingBack") return "rolling back";
  if (!c.stepStartedAt) return "waiting for the weights to be in force";
  const left = step.holdMs - (now - Date.parse(c.stepStartedAt));
  if (left > 0) return `${fmtDuration(left)} left`;
  if (step.gate === "approval") return "waiting for approval";
  if (step.gate === "analysis") return "waiting for analysis";
  return "ending";
}

/**
 * The plan's steps, each { label, state, note }: state is done, current, next, or, for the step a
 * rollout stopped at, stopped. The note of the current step says how long is left in it or what it
 * waits for.
 */
export function stepPlan(c, now) {
  const plan = c.plan ?? [];
  return plan.map((step, i) => {
    const label = `${fmtNumber(step.weight)}%${step.mirror ? ` · mirror ${fmtNumber(step.mirror)}%` : ""}`;
    const hold = `hold ${fmtDuration(step.holdMs)}${step.gate === "approval" ? " + approval" : ""}`;
    let state = i < c.step ? "done" : i === c.step ? "current" : "next";
    if (c.phase === "Succeeded" && !c.report) state = "done";
    else if (TERMINAL.has(c.phase) && i === c.step) state = "stopped";
    const note = state === "current" ? currentNote(c, step, now) : hold;
    return { label, state, note };
  });
}
