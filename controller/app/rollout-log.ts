/**
 * A Canary's rollouts, one entry per start (its first transition or a move to Initializing: a retry
 * or a new revision) to its end, built from the status history this controller observes. status
 * keeps only the last 20 transitions; this log keeps more, bounded per Canary, for as long as the
 * process runs (a restarted controller starts again from status.history).
 */
import type { RolloutView, TimelineEntry } from "../api/types.js";
import { TERMINAL_PHASES } from "../rollout/commands.js";
import type { CanaryStatus, Decision, Transition } from "../spec/schema.js";
import { decisionView } from "./api-views.js";

/** Bounds per Canary: rollouts kept, transitions kept per rollout (the last ones). */
export interface RolloutLogLimits {
  rollouts: number;
  transitions: number;
}

interface CanaryRollouts {
  rollouts: RolloutView[];
  /** Time and keys of the newest transitions taken, so a re-read history adds nothing twice. */
  lastAt: number;
  keysAtLast: Set<string>;
}

export class RolloutLog {
  private readonly byCanary = new Map<string, CanaryRollouts>();

  constructor(private readonly limits: RolloutLogLimits = { rollouts: 20, transitions: 50 }) {}

  /** Takes the status's new transitions and, once a rollout has ended, its last decision. */
  observe(id: string, status: CanaryStatus): void {
    let log = this.byCanary.get(id);
    if (!log) {
      log = { rollouts: [], lastAt: Number.NEGATIVE_INFINITY, keysAtLast: new Set() };
      this.byCanary.set(id, log);
    }
    const d = status.lastDecision;
    for (const h of status.history ?? []) {
      const ended = this.take(log, h);
      if (ended && d) attachDecision(ended, d);
    }
    const current = log.rollouts.at(-1);
    if (current?.endedAt && d) attachDecision(current, d);
  }

  /** The Canary's rollouts, newest first. */
  view(id: string): RolloutView[] {
    return [...(this.byCanary.get(id)?.rollouts ?? [])].reverse();
  }

  remove(id: string): void {
    this.byCanary.delete(id);
  }

  /** Adds a transition not seen before; returns the rollout when the transition ended it. */
  private take(log: CanaryRollouts, h: Transition): RolloutView | undefined {
    const at = Date.parse(h.at);
    const key = JSON.stringify([h.from, h.to, h.step, h.weightBp, h.reason]);
    if (!(at >= log.lastAt) || (at === log.lastAt && log.keysAtLast.has(key))) return undefined;
    if (at > log.lastAt) log.keysAtLast.clear();
    log.lastAt = at;
    log.keysAtLast.add(key);

    const entry: TimelineEntry = {
      at: h.at,
      phase: h.to,
      step: h.step,
      weight: h.weightBp / 100,
      reason: h.reason,
    };
    let current = log.rollouts.at(-1);
    if (current === undefined || h.to === "Initializing") {
      current = { startedAt: h.at, phase: h.to, reason: h.reason, maxStep: 0, maxWeight: 0, transitions: [] };
      log.rollouts.push(current);
      if (log.rollouts.length > this.limits.rollouts) log.rollouts.shift();
    }
    current.transitions.push(entry);
    if (current.transitions.length > this.limits.transitions) current.transitions.shift();
    current.phase = h.to;
    current.reason = h.reason;
    current.maxStep = Math.max(current.maxStep, h.step);
    current.maxWeight = Math.max(current.maxWeight, entry.weight);
    // An undo after Succeeded continues the same rollout: it is open again until RolledBack.
    if (TERMINAL_PHASES.has(h.to as never)) {
      current.endedAt = h.at;
      return current;
    }
    delete current.endedAt;
    delete current.finalDecision;
    return undefined;
  }
}

/** The decision, when taken within the ended rollout, is its final one. */
function attachDecision(r: RolloutView, d: Decision): void {
  const at = Date.parse(d.at);
  if (at >= Date.parse(r.startedAt) && at <= Date.parse(r.endedAt!)) r.finalDecision = decisionView(d);
}
