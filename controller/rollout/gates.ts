/**
 * Gating webhooks, as Flagger has them, reduced to pure rules over plain data. The runner calls the
 * gates (controller/app/gate-poller.ts) and reports each answer as a GateResult observation; these
 * functions say which gates are open in a state, what the answers mean and which gates are due.
 *
 * - pre-rollout: open in Initializing. The first step starts only when every pre-rollout gate's last
 *   answer passed; a gate that failed `failureLimit` times in this attempt rolls the rollout back.
 * - confirm-promotion: open while Paused for "gate" after the last step. Promotion waits until every
 *   one's last answer passed; failures only hold (analysis still runs and can roll back).
 * - post-rollout: called once when the rollout ends (Succeeded, RolledBack, Aborted); informational.
 *
 * A gate opens afresh on each entry into its phase; answers to calls started before that are stale
 * and ignored, as are answers for a gate type that is not open.
 */
import type { Gate, GateType, Phase } from "../spec/schema.js";
import { durationMs } from "../spec/durations.js";

export type { GateType } from "../spec/schema.js";

/** What the state machine needs of one spec.gates entry. */
export interface GatePlan {
  name: string;
  type: GateType;
  /** Least time between calls while the gate is open, ms. */
  intervalMs: number;
  /** pre-rollout: failed calls that roll back. */
  failureLimit: number;
}

/** One call's outcome, as the runner observed it. */
export interface GateResult {
  name: string;
  type: GateType;
  passed: boolean;
  /** What came back, e.g. "HTTP 503: not ready" or "timed out after 10s"; never the URL's path or query. */
  message: string;
  /** Unix ms the call started and answered. */
  startedAt: number;
  at: number;
}

/** A gate's state in this rollout attempt (kept in status.gates). */
export interface GateState {
  name: string;
  type: GateType;
  result: "Pending" | "Passed" | "Failed";
  failures: number;
  message: string;
  /** Unix ms the gate opened. */
  since: number;
  /** Unix ms of the last answer. */
  at?: number;
}

/** What the open gates say: go on, keep waiting (why), or stop (why). */
export type GateVerdict = { kind: "pass" } | { kind: "wait"; why: string } | { kind: "fail"; why: string };

const DEFAULT_INTERVAL = "10s";
const DEFAULT_FAILURE_LIMIT = 3;
const ENDED: ReadonlySet<Phase> = new Set(["Succeeded", "RolledBack", "Aborted"]);

export function planGates(gates: readonly Gate[]): GatePlan[] {
  return gates.map((g) => ({
    name: g.name,
    type: g.type,
    intervalMs: durationMs(g.interval ?? DEFAULT_INTERVAL),
    failureLimit: g.failureLimit ?? DEFAULT_FAILURE_LIMIT,
  }));
}

/** The gate type a phase calls, if any. */
export function openGateType(s: {
  phase: Phase;
  pausedBy?: string;
  plan: { unsupported?: string };
}): GateType | undefined {
  if (s.phase === "Initializing") return s.plan.unsupported === undefined ? "pre-rollout" : undefined;
  if (s.phase === "Paused" && s.pausedBy === "gate") return "confirm-promotion";
  return ENDED.has(s.phase) ? "post-rollout" : undefined;
}

/** The gates of `type` opened at `now` (fresh, no answers yet); the others kept. Undefined when there are none. */
export function openGates(
  states: readonly GateState[] | undefined,
  plan: readonly GatePlan[] = [],
  type: GateType | undefined,
  now: number,
): GateState[] | undefined {
  const kept = (states ?? []).filter((g) => g.type !== type);
  const opened = plan
    .filter((g) => g.type === type)
    .map((g) => ({
      name: g.name,
      type: g.type,
      result: "Pending" as const,
      failures: 0,
      message: "not called yet",
      since: now,
    }));
  const all = [...kept, ...opened];
  return all.length === 0 ? undefined : all;
}

/**
 * Records the answers that count: for a planned gate of the open type, to a call started since it
 * opened. Returns the new states and the gates whose result changed (worth an Event).
 */
export function recordResults(
  states: readonly GateState[] | undefined,
  plan: readonly GatePlan[] = [],
  open: GateType | undefined,
  results: readonly GateResult[],
): { gates: GateState[] | undefined; changed: GateState[] } {
  let gates = states === undefined ? undefined : [...states];
  const changed: GateState[] = [];
  for (const r of results) {
    if (r.type !== open || !plan.some((g) => g.name === r.name && g.type === r.type)) continue;
    const i = (gates ?? []).findIndex((g) => g.name === r.name && g.type === r.type);
    // A gate added to the spec while its phase runs has no entry yet; post-rollout ones only open on entry.
    if (i < 0 && r.type === "post-rollout") continue;
    const before: GateState = i >= 0 ? gates![i]! : { ...blank(r), since: r.startedAt };
    if (r.startedAt < before.since) continue;
    const result = r.passed ? ("Passed" as const) : ("Failed" as const);
    const after = {
      ...before,
      result,
      failures: before.failures + (r.passed ? 0 : 1),
      message: r.message,
      at: r.at,
    };
    gates = i >= 0 ? gates!.map((g, j) => (j === i ? after : g)) : [...(gates ?? []), after];
    if (before.result !== result) changed.push(after);
  }
  return { gates, changed };
}

/** What the gates of `type` allow now. */
export function gateVerdict(
  states: readonly GateState[] | undefined,
  plan: readonly GatePlan[] = [],
  type: GateType,
): GateVerdict {
  const waiting: string[] = [];
  for (const g of plan.filter((p) => p.type === type)) {
    const s = (states ?? []).find((x) => x.name === g.name && x.type === type);
    if (s?.result === "Passed") continue;
    if (type === "pre-rollout" && s !== undefined && s.failures >= g.failureLimit)
      return {
        kind: "fail",
        why: `${type} gate ${g.name} failed ${s.failures} times (limit ${g.failureLimit}): ${s.message}`,
      };
    const count =
      type === "pre-rollout" && s?.result === "Failed" ? ` (failure ${s.failures} of ${g.failureLimit})` : "";
    waiting.push(`${g.name}: ${s?.message ?? "not called yet"}${count}`);
  }
  return waiting.length === 0
    ? { kind: "pass" }
    : { kind: "wait", why: `${type} gates: ${waiting.join("; ")}` };
}

/** The gates the runner should call now: the open type's, once per interval (post-rollout: once). */
export function gatesDue(
  s: {
    phase: Phase;
    pausedBy?: string;
    plan: { unsupported?: string; gates?: readonly GatePlan[] };
    gates?: readonly GateState[];
  },
  now: number,
): GatePlan[] {
  const type = openGateType(s);
  return (s.plan.gates ?? []).filter((g) => {
    if (g.type !== type) return false;
    const state = s.gates?.find((x) => x.name === g.name && x.type === type);
    if (type === "post-rollout") return state?.result === "Pending";
    return state?.at === undefined || now - state.at >= g.intervalMs;
  });
}

/** Whether the plan has gates of `type`. */
export function hasGates(plan: { gates?: readonly GatePlan[] }, type: GateType): boolean {
  return (plan.gates ?? []).some((g) => g.type === type);
}

function blank(r: GateResult): Omit<GateState, "since"> {
  return { name: r.name, type: r.type, result: "Pending", failures: 0, message: "not called yet" };
}
