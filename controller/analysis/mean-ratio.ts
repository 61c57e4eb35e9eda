/**
 * The mean of a response metric per request (tokens, cost, response length), canary against
 * `ratio` × stable on the same concurrent traffic: null "canary mean ≤ ratio × stable mean".
 *
 * The unit is a block of windows (docs/statistics.md "Blocks"), as for every test that can roll
 * back. From each block we take one bounded number from the two arms' block means c̄_b and s̄_b:
 *   S_b = c̄_b / (c̄_b + ratio·s̄_b) ∈ [0, 1],  Z_b = 2·S_b − 1 = (c̄_b − ratio·s̄_b)/(c̄_b + ratio·s̄_b)
 * and bet on Z_b with the block betting e-detector of betting.ts (the share S_b against q = ½ gives
 * exactly this Z_b). Z_b is self-normalised: one runaway answer of a million tokens, or a user
 * whose whole session lands in one block, moves it once and by at most 1, so heavy tails and
 * clustered requests cost power, never validity of the bound Π(1 + λZ_b) ≥ 0.
 *
 * Why E[Z_b | past] ≤ 0 under the null: when the canary's values are stable's scaled by at most
 * `ratio`, and the canary's block mean is the more dispersed of the two (it rests on no more
 * responses than stable's), Z_b is concave and increasing in c̄_b, and a mean of fewer draws is
 * larger in convex order, so by Jensen E[Z_b] ≤ E[Z_b with both arms alike] = 0 (Z_b is
 * antisymmetric). Above 50% the canary would have more responses, and no bounded statistic
 * decreasing in s̄_b can be concave in it; so there the block takes only one second of the
 * canary's in `thin` (from the previous block's counts), which restores the direction at the cost
 * of the canary data left out. A general null "any distributions with canary mean ≤ ratio × stable
 * mean" cannot be tested with unbounded values at all: stable's mean may hide in a tail no data
 * have shown yet (no upper confidence bound exists for the mean of an unbounded variable).
 *
 * The pass test bets on −Z_b on the same blocks (null "canary mean ≥ ratio × stable mean"). It is
 * optimistic where the fail test is conservative (the same Jensen gap, the other way), which can
 * promote early but never roll back.
 */

import type { WindowPoint } from "../telemetry/types.js";
import { type BetState, betEValue, observeBet, settleBet } from "./betting.js";
import { fmtE } from "./reason-format.js";

/**
 * A block also waits for this many responses in each arm: a block mean of one or two heavy-tailed
 * answers sits near their median, far below the mean, which makes Z_b a test of medians.
 */
export const MIN_BLOCK_RESPONSES = 20;

/** A metric's sum and count in one arm. */
export interface SumCount {
  sum: number;
  count: number;
}

/** Canary's mean of a metric per request against `ratio` × stable's, on the same windows. */
export interface MeanComparisonCondition {
  type: "meanComparison";
  label: string;
  /** The highest canary/stable ratio of the means the null allows. */
  ratio: number;
  extract: (w: WindowPoint) => { canary?: SumCount; stable?: SumCount };
}

/** Accumulated state of a mean comparison (plain JSON). */
export interface MeanComparisonState {
  type: "meanComparison";
  ratio: number;
  /** The open block: its aligned start (null when none is open) and each arm's totals in it. */
  block: { startMs: number | null; canary: SumCount; stable: SumCount; canarySeen: number };
  /**
   * The canary's windows taken into a block: one second in `thin`, so that its block mean rests on
   * no more responses than stable's (the direction the null needs); set from the previous block's
   * counts, so it is fixed before the data it thins. 1 at steps up to 50%.
   */
  thin: number;
  /** Fail test: block betting on Z_b (null: canary mean ≤ ratio × stable's). */
  fail: BetState;
  /** Pass test: betting on −Z per window (null: canary mean ≥ ratio × stable's). */
  pass: BetState;
  /** The step's totals, for the reason shown. */
  canary: SumCount;
  stable: SumCount;
}

const EMPTY: SumCount = { sum: 0, count: 0 };
const OPEN = { startMs: null, canary: EMPTY, stable: EMPTY, canarySeen: 0 };

/** A fresh state; the bets come from the caller (fail: "above", pass: "below", same blocks). */
export function freshMeanComparison(ratio: number, fail: BetState, pass: BetState): MeanComparisonState {
  return {
    type: "meanComparison",
    ratio,
    block: OPEN,
    thin: 1,
    fail,
    pass,
    canary: EMPTY,
    stable: EMPTY,
  };
}

/** A peer's totals as usable numbers: a count ≥ 0, a finite sum ≥ 0 (a metric per request is never negative). */
function clean(x: SumCount | undefined): SumCount {
  if (!x || !(x.count > 0)) return EMPTY;
  return { count: x.count, sum: Number.isFinite(x.sum) && x.sum > 0 ? x.sum : 0 };
}

function plus(a: SumCount, b: SumCount): SumCount {
  return { sum: a.sum + b.sum, count: a.count + b.count };
}

/** S = c̄ / (c̄ + ratio·s̄), or undefined when either arm has no requests or both means are 0. */
export function meanShare(canary: SumCount, stable: SumCount, ratio: number): number | undefined {
  if (!(canary.count > 0 && stable.count > 0)) return undefined;
  const c = canary.sum / canary.count;
  const s = ratio * (stable.sum / stable.count);
  return c + s > 0 ? c / (c + s) : undefined;
}

/** One bounded observation S against q = ½ (betting.ts turns it into Z = 2S − 1, or 1 − 2S below). */
function betOn(bet: BetState, startMs: number, share: number): BetState {
  return settleBet(observeBet(bet, { startMs, num: share, den: 1, q: 0.5 }), startMs + bet.blockMs);
}

function closeBlock(s: MeanComparisonState): MeanComparisonState {
  const { startMs, canary, stable } = s.block;
  const share = meanShare(canary, stable, s.ratio);
  const thin = stable.count > 0 ? Math.max(1, Math.ceil(s.block.canarySeen / stable.count)) : s.thin;
  const next = { ...s, block: OPEN, thin };
  if (startMs === null || share === undefined) return next;
  return { ...next, fail: betOn(s.fail, startMs, share), pass: betOn(s.pass, startMs, share) };
}

/** Whether the open block is complete at time `atMs`: it spans blockMs and each arm has its responses. */
function full(s: MeanComparisonState, atMs: number): boolean {
  const { startMs, canary, stable } = s.block;
  return (
    startMs !== null &&
    atMs >= startMs + s.fail.blockMs &&
    canary.count >= MIN_BLOCK_RESPONSES &&
    stable.count >= MIN_BLOCK_RESPONSES
  );
}

/** The state after one more window (windows in time order). */
export function observeMean(
  c: MeanComparisonCondition,
  s: MeanComparisonState,
  w: WindowPoint,
): MeanComparisonState {
  const arms = c.extract(w);
  const canary = clean(arms.canary);
  const stable = clean(arms.stable);
  const blockMs = s.fail.blockMs;
  const blockStart = w.startMs - (((w.startMs % blockMs) + blockMs) % blockMs);
  const next = full(s, blockStart) ? closeBlock(s) : s;
  const taken = Math.round(w.startMs / 1000) % next.thin === 0;
  return {
    ...next,
    block: {
      startMs: next.block.startMs ?? blockStart,
      canary: taken ? plus(next.block.canary, canary) : next.block.canary,
      stable: plus(next.block.stable, stable),
      canarySeen: next.block.canarySeen + canary.count,
    },
    canary: plus(next.canary, canary),
    stable: plus(next.stable, stable),
  };
}

/** Closes the open block once `nowMs` is past its end. */
export function settleMean(s: MeanComparisonState, nowMs: number): MeanComparisonState {
  return full(s, nowMs) ? closeBlock(s) : s;
}

/** What a mean comparison says now. */
export interface MeanVerdict {
  verdict: "pass" | "fail" | "inconclusive";
  reason: string;
  value?: number;
  threshold: number;
  eValue: number;
}

function fmt(x: number): string {
  return x.toPrecision(3);
}

/** The verdict at per-test false-verdict rate `alpha`. */
export function judgeMean(c: MeanComparisonCondition, s: MeanComparisonState, alpha: number): MeanVerdict {
  const eFail = betEValue(s.fail);
  const ePass = betEValue(s.pass);
  const cm = s.canary.count > 0 ? s.canary.sum / s.canary.count : undefined;
  const sm = s.stable.count > 0 ? s.stable.sum / s.stable.count : undefined;
  const value = cm !== undefined && sm !== undefined && sm > 0 ? cm / sm : undefined;
  const means =
    cm === undefined || sm === undefined
      ? `canary ${s.canary.count}, stable ${s.stable.count} responses`
      : `canary ${fmt(cm)}, stable ${fmt(sm)} per response over ${s.canary.count}/${s.stable.count}; ${s.fail.blocks} block(s)`;
  const base = { threshold: c.ratio, eValue: eFail, ...(value !== undefined ? { value } : {}) };
  const limit = fmtE(1 / alpha);
  if (eFail >= 1 / alpha) {
    const reason = `${c.label}: canary mean above ${c.ratio}x stable's (e=${fmtE(eFail)} >= ${limit}; ${means})`;
    return { verdict: "fail", reason, ...base };
  }
  if (ePass >= 1 / alpha) {
    const reason = `${c.label}: canary mean below ${c.ratio}x stable's (e=${fmtE(ePass)} >= ${limit}; ${means})`;
    return { verdict: "pass", reason, ...base };
  }
  const reason = `${c.label}: not enough evidence yet (fail e=${fmtE(eFail)}, pass e=${fmtE(ePass)} of ${limit}; ${means})`;
  return { verdict: "inconclusive", reason, ...base };
}
