/**
 * The user-group test of a failure-rate comparison (docs/statistics.md "User groups as the unit").
 *
 * With sticky assignment the canary keeps the same users for the whole step, so a few users who
 * fail often give it a different failure rate for as long as the step lasts: time blocks cannot
 * remove an offset that persists. The randomness that makes an A/A comparison fair is the
 * assignment of users to variants, and the filter tallies per user group g (telemetry/user-groups.ts),
 * users being assigned independently of their group. Under the sharp null (each user's failures do
 * not depend on the variant serving it) and given every user's failures, group g's canary share of
 * its failures r_g = Σ_u A_u F_u / Σ_u F_u has mean exactly w, the weight (P(A_u = 1)), and the
 * groups are independent. With a rate ratio θ0 ≥ 1 allowed, E[r_g] ≤ q = θ0·w/(θ0·w + 1 − w)
 * (the share is concave in the canary's failures: Jensen). So, for any bet λ ∈ [0, 1],
 *   E_λ = Π_g (1 + λ (r_g − q)/q)
 * has mean ≤ 1 at a fixed time, and so has their average over GROUP_BETS: an e-value whose units are
 * user groups, however dependent one user's requests are. Because the same G groups are looked at
 * again and again, evidence cannot grow with time beyond what G units hold; the looks (every
 * LOOK_MS) are combined as Σ_k π_k E_k with π_k = 1/(k(k+1)): non-decreasing, mean ≤ 1, so
 * P(ever ≥ 1/α) ≤ α by Markov's inequality (a union bound over looks paid in prior weight).
 * Late onsets: each look's E_k is the average of the e-value over the whole step and over its last
 * RECENT_LOOKS looks only (a window fixed in advance is as valid as the whole step), so a fault after
 * 20 healthy minutes is not diluted by them.
 * Pure; the state is plain JSON.
 */

import { USER_GROUPS, type UserGroupStats } from "../telemetry/user-groups.js";

/** The bets averaged per look: its own set, not the block detector's (their weighing differs). */
export const GROUP_BETS = [0.9, 1 / 2, 1 / 4, 1 / 10];

/** Time between looks, ms: groups gather evidence over tens of seconds, not per window. */
export const LOOK_MS = 10_000;
/** Looks in the recent window (RECENT_LOOKS × LOOK_MS = 60 s). */
export const RECENT_LOOKS = 6;

/** The accumulated state of one comparison's user-group test. */
export interface GroupTestState {
  /** The canary's null share of a group's failures, q = θ0·w/(θ0·w + 1 − w). */
  q: number;
  /** Start of the first window with group tallies (looks count from it), or null before any. */
  startMs: number | null;
  /** Looks taken so far. */
  looks: number;
  /** Per group, failures on the canary and on both variants since the step began. */
  canary: number[];
  total: number[];
  /** Σ_k π_k E_k over the looks taken. */
  eSum: number;
  /** canary and total at each of the last RECENT_LOOKS looks, oldest first. */
  recent: { canary: number[]; total: number[] }[];
}

/**
 * One window's events per user group of each arm, in `failures`: the failures, or for a latency
 * ratio comparison the requests above the arm's threshold (user-group-comparison.ts `slowGroups`).
 */
export interface GroupWindow {
  startMs: number;
  canary: UserGroupStats;
  stable: UserGroupStats;
}

export function createGroupTest(q: number): GroupTestState {
  return {
    q,
    startMs: null,
    looks: 0,
    canary: new Array<number>(USER_GROUPS).fill(0),
    total: new Array<number>(USER_GROUPS).fill(0),
    eSum: 0,
    recent: [],
  };
}

/** Prior weight of look k (k = 1, 2, …); the weights sum to 1. */
export function lookWeight(k: number): number {
  return 1 / (k * (k + 1));
}

/**
 * The e-value of one look: the average over GROUP_BETS of Π_g (1 + λ (r_g − q)/q), over the groups with
 * failures (a group without failures carries no information and leaves every product as it is).
 */
export function groupEValue(canary: readonly number[], total: readonly number[], q: number): number {
  if (!(q > 0 && q < 1)) return 1;
  const logs = GROUP_BETS.map(() => 0);
  for (let g = 0; g < total.length; g++) {
    const t = total[g]!;
    if (!(t > 0)) continue;
    const z = (Math.min(1, Math.max(0, canary[g]! / t)) - q) / q;
    for (let b = 0; b < GROUP_BETS.length; b++) logs[b]! += Math.log1p(GROUP_BETS[b]! * z);
  }
  return logs.reduce((s, l) => s + Math.exp(Math.min(l, 700)), 0) / GROUP_BETS.length;
}

function take(s: GroupTestState): GroupTestState {
  const k = s.looks + 1;
  const whole = groupEValue(s.canary, s.total, s.q);
  const recent = s.recent ?? [];
  const from = recent.length === RECENT_LOOKS ? recent[0]! : undefined;
  const lately = from
    ? groupEValue(
        s.canary.map((c, g) => c - from.canary[g]!),
        s.total.map((t, g) => t - from.total[g]!),
        s.q,
      )
    : whole;
  const kept = [...recent, { canary: s.canary, total: s.total }].slice(-RECENT_LOOKS);
  return { ...s, looks: k, eSum: s.eSum + (lookWeight(k) * (whole + lately)) / 2, recent: kept };
}

/** Takes every look due before `nowMs` (a look sees the windows before it). */
export function settleGroupTest(s: GroupTestState, nowMs: number): GroupTestState {
  if (s.startMs === null) return s;
  let next = s;
  while (next.startMs! + (next.looks + 1) * LOOK_MS <= nowMs) next = take(next);
  return next;
}

/** The state after one more window (windows in time order). */
export function observeGroupTest(s: GroupTestState, w: GroupWindow): GroupTestState {
  const started = s.startMs === null ? { ...s, startMs: w.startMs } : settleGroupTest(s, w.startMs);
  const canary = started.canary.slice();
  const total = started.total.slice();
  for (let g = 0; g < USER_GROUPS; g++) {
    const c = w.canary.failures[g] ?? 0;
    canary[g]! += c;
    total[g]! += c + (w.stable.failures[g] ?? 0);
  }
  return { ...started, canary, total };
}

/** Whether the test rejects "canary ≤ θ0 × stable" at `alpha`. */
export function groupTestRejects(s: GroupTestState, alpha: number): boolean {
  return s.eSum >= 1 / alpha;
}
