/**
 * What the demo knows about one scenario, folded from periodic observations (Canary status, the
 * sidecar's per-variant counters and latency, the load generator's version changes). Pure: the
 * runner observes, `observe` folds, render.ts draws and the report is this state as JSON.
 */
import type { DemoStep } from "./manifests.js";

export type ScenarioName = "healthy" | "faulty";

/** A fault injected into the canary app. */
export type Fault = { kind: "error-rate"; rate: number } | { kind: "latency"; extraMs: number };

/** One scenario: which service, its steps, the fault (if any) and the outcome it must reach. */
export interface ScenarioPlan {
  name: ScenarioName;
  service: string;
  /** "<namespace>/<name>" of its Canary. */
  canary: string;
  steps: DemoStep[];
  /** The fault and the step index at which it is injected (once the step is in force). */
  fault?: { fault: Fault; atStep: number };
  expect: "Succeeded" | "RolledBack";
  /** Version labels of the stable and canary apps. */
  stableVersion: string;
  canaryVersion: string;
}

/** One check of a decision, as shown. */
export interface CheckLine {
  name: string;
  verdict: string;
  message?: string;
  /** Measured value and the check's limit on it (same units). */
  value?: number;
  eValue?: number;
  threshold?: number;
}

/** A rollout decision as the controller recorded it in status.lastDecision. */
export interface DecisionLine {
  at: string;
  action: string;
  reason: string;
  checks: CheckLine[];
}

/** Per-variant figures over the last observation interval. */
export interface VariantRate {
  rps: number;
  /** failures / requests in the interval; null without requests. */
  failureRate: number | null;
  /** p99 latency in ms from the controller's windows; null when unknown. */
  p99Ms: number | null;
}

/** Something that happened, for the timeline (report) and the plain-text log. */
export type TimelineEvent =
  | { atMs: number; kind: "canary-applied" }
  | {
      atMs: number;
      kind: "transition";
      from: string;
      to: string;
      step: number;
      weightBp: number;
      reason: string;
      /** The decision that made this transition (same tick), shown with it as one line. */
      decision?: DecisionLine;
    }
  | { atMs: number; kind: "decision"; decision: DecisionLine }
  | { atMs: number; kind: "fault"; fault: Fault; step: number }
  | {
      atMs: number;
      kind: "sample";
      phase: string;
      step: number;
      weightBp: number;
      variants: Record<string, VariantRate>;
    };

/** Cumulative per-variant counters of the sidecar's filter (its Envoy stats). */
export interface Counters {
  [variant: string]: { requests: number; failures: number };
}

/** One observation of the world. */
export interface Observation {
  nowMs: number;
  /** The Canary's status; undefined until the Canary exists. */
  status?: {
    phase?: string;
    step?: number;
    weightBp?: number;
    message?: string;
    stepStartedAt?: string;
    lastDecision?: DecisionLine;
    history?: { at: string; from: string; to: string; step: number; weightBp: number; reason: string }[];
  };
  counters: Counters;
  /** p99 per variant, when known. */
  p99Ms?: Record<string, number | null>;
  /** Canary→stable version changes of users so far (times), from the load generator. */
  canaryToStableAt: readonly number[];
  /** Requests answered per version, from the load generator. */
  servedByVersion: Record<string, { requests: number; failures: number }>;
}

export interface ScenarioState {
  plan: ScenarioPlan;
  startedMs: number;
  endedMs?: number;
  phase: string;
  step: number;
  weightBp: number;
  message: string;
  stepStartedMs?: number;
  /** The latest decision (hold decisions included). */
  decision?: DecisionLine;
  rates: Record<string, VariantRate>;
  counters: Counters;
  servedByVersion: Record<string, { requests: number; failures: number }>;
  /** When the controller started rolling back (first RollingBack/RolledBack transition). */
  rollbackMs?: number;
  /** Users moved canary→stable before the rollback began (must be 0). */
  flipsBeforeRollback: number;
  flipsTotal: number;
  faultInjectedMs?: number;
  /** Highest step index reached. */
  maxStep: number;
  /**
   * Steps actually walked (indexes, ascending): seen in force (their clock running), or left by an
   * analysis decision to advance, which is only taken while a step's clock runs.
   */
  walkedSteps: number[];
  timeline: TimelineEvent[];
  /** Internal: last counters sample for rates and last sample time. */
  lastSample?: { atMs: number; counters: Counters };
  seenHistory: number;
  seenDecisionAt?: string;
}

export const TERMINAL_PHASES = ["Succeeded", "RolledBack", "Aborted"];
const ROLLBACK_PHASES = ["RollingBack", "RolledBack"];
/** Samples go to the timeline at most this often. */
const SAMPLE_EVERY_MS = 1000;

export function initialState(plan: ScenarioPlan, nowMs: number): ScenarioState {
  return {
    plan,
    startedMs: nowMs,
    phase: "Pending",
    step: 0,
    weightBp: 0,
    message: "",
    rates: {},
    counters: {},
    servedByVersion: {},
    flipsBeforeRollback: 0,
    flipsTotal: 0,
    maxStep: 0,
    walkedSteps: [],
    timeline: [{ atMs: nowMs, kind: "canary-applied" }],
    seenHistory: 0,
  };
}

export function isDone(s: ScenarioState): boolean {
  return TERMINAL_PHASES.includes(s.phase);
}

function ratesBetween(prev: Counters, next: Counters, seconds: number): Record<string, VariantRate> {
  const out: Record<string, VariantRate> = {};
  for (const [variant, now] of Object.entries(next)) {
    const before = prev[variant] ?? { requests: 0, failures: 0 };
    const requests = now.requests - before.requests;
    const failures = now.failures - before.failures;
    out[variant] = {
      rps: seconds > 0 ? requests / seconds : 0,
      failureRate: requests > 0 ? failures / requests : null,
      p99Ms: null,
    };
  }
  return out;
}

/** Folds one observation into the state. */
export function observe(s: ScenarioState, obs: Observation): ScenarioState {
  const next: ScenarioState = { ...s, timeline: [...s.timeline], counters: obs.counters };
  next.servedByVersion = obs.servedByVersion;
  const st = obs.status;
  if (st) {
    next.phase = st.phase ?? "Initializing";
    next.step = st.step ?? 0;
    next.weightBp = st.weightBp ?? 0;
    next.message = st.message ?? "";
    next.stepStartedMs = st.stepStartedAt ? Date.parse(st.stepStartedAt) : undefined;
    next.maxStep = Math.max(next.maxStep, next.step);
    if (next.stepStartedMs !== undefined && (next.phase === "Progressing" || next.phase === "Paused"))
      next.walkedSteps = walk(next.walkedSteps, next.step);
    const d = st.lastDecision;
    const freshDecision = d !== undefined && d.action !== "hold" && d.at !== s.seenDecisionAt ? d : undefined;
    if (d) next.decision = d;
    const history = st.history ?? [];
    // status.history keeps the newest entries; new ones are those after the last one seen.
    const fresh = history.filter((h) => Date.parse(h.at) > s.seenHistory);
    let folded = false;
    for (const h of fresh) {
      const atMs = Date.parse(h.at);
      // The decision and the transition it made carry the same time (one controller tick).
      const decision = freshDecision && freshDecision.at === h.at && !folded ? freshDecision : undefined;
      next.timeline.push({ atMs, kind: "transition", ...h, ...(decision ? { decision } : {}) });
      if (decision) {
        folded = true;
        // An advance leaves a step whose clock ran: the step before the one entered (or the last one).
        if (decision.action === "advance")
          next.walkedSteps = walk(next.walkedSteps, h.to === "Progressing" ? h.step - 1 : h.step);
      }
      if (ROLLBACK_PHASES.includes(h.to) && next.rollbackMs === undefined) next.rollbackMs = atMs;
      next.seenHistory = Math.max(next.seenHistory, atMs);
    }
    if (ROLLBACK_PHASES.includes(next.phase) && next.rollbackMs === undefined) next.rollbackMs = obs.nowMs;
    if (freshDecision) {
      if (!folded)
        next.timeline.push({ atMs: Date.parse(freshDecision.at), kind: "decision", decision: freshDecision });
      next.seenDecisionAt = freshDecision.at;
    }
  }
  const rollback = next.rollbackMs ?? Number.POSITIVE_INFINITY;
  next.flipsTotal = obs.canaryToStableAt.length;
  next.flipsBeforeRollback = obs.canaryToStableAt.filter((t) => t < rollback).length;

  const last = s.lastSample;
  if (!last || obs.nowMs - last.atMs >= SAMPLE_EVERY_MS) {
    const rates = last ? ratesBetween(last.counters, obs.counters, (obs.nowMs - last.atMs) / 1000) : {};
    for (const [variant, p99] of Object.entries(obs.p99Ms ?? {})) {
      if (rates[variant]) rates[variant] = { ...rates[variant], p99Ms: p99 };
    }
    next.rates = rates;
    next.lastSample = { atMs: obs.nowMs, counters: obs.counters };
    if (last) {
      next.timeline.push({
        atMs: obs.nowMs,
        kind: "sample",
        phase: next.phase,
        step: next.step,
        weightBp: next.weightBp,
        variants: rates,
      });
    }
  }
  if (isDone(next) && next.endedMs === undefined) next.endedMs = obs.nowMs;
  return next;
}

function walk(walked: readonly number[], step: number): number[] {
  return step < 0 || walked.includes(step) ? [...walked] : [...walked, step].sort((a, b) => a - b);
}

/** Records the fault injection. */
export function faultInjected(s: ScenarioState, fault: Fault, nowMs: number): ScenarioState {
  return {
    ...s,
    faultInjectedMs: nowMs,
    timeline: [...s.timeline, { atMs: nowMs, kind: "fault", fault, step: s.step }],
  };
}

/** Whether the fault is due: its step is in force (weights confirmed) and not yet injected. */
export function faultDue(s: ScenarioState): boolean {
  const f = s.plan.fault;
  if (!f || s.faultInjectedMs !== undefined) return false;
  return s.phase === "Progressing" && s.step >= f.atStep && s.stepStartedMs !== undefined;
}

/** The verdict on a finished (or timed-out) scenario: undefined when it met its expectation. */
export function failureOf(s: ScenarioState): string | undefined {
  const name = `${s.plan.name} (${s.plan.canary})`;
  if (!isDone(s)) return `${name}: did not finish (phase ${s.phase}: ${s.message})`;
  if (s.phase !== s.plan.expect) return `${name}: expected ${s.plan.expect}, ended ${s.phase}: ${s.message}`;
  if (s.flipsBeforeRollback > 0)
    return `${name}: ${s.flipsBeforeRollback} user(s) moved canary→stable before any rollback`;
  return undefined;
}
