/**
 * Canary against stable on bad events, null "canary rate ≤ θ0 × stable rate": fails by block
 * betting on the canary's share of them (and, when user-group tallies come, the user-group test
 * too, even if the block test has fallen back since it crossed in the step), passes by the count
 * e-process at θ1 = PASS_MARGIN × θ0.
 */

import type { WindowPoint } from "../telemetry/types.js";
import { type BetState, betEValue, settleBet } from "./betting.js";
import { bet, freshPass, PASS_MARGIN, relativeStep } from "./condition-tests.js";
import type { ConditionResult } from "./conditions.js";
import { type CountTestState, type CountWindow, eValue } from "./eprocess.js";
import { fmtE } from "./reason-format.js";
import {
  type BlockPeak,
  latchedReason,
  peakOf,
  type UserGroupComparison,
  userGroupStep,
  userGroupVerdict,
} from "./user-group-comparison.js";
import { type GroupTestState, settleGroupTest } from "./user-group-test.js";

/** Canary vs stable on bad events; null "canary rate ≤ θ0 × stable rate". */
export interface ComparisonCondition {
  type: "comparison";
  label: string;
  theta0: number;
  extract: (w: WindowPoint) => CountWindow | undefined;
  /** Per-user-group events (failures, or requests above a latency threshold) and the weight, for the user-group test. */
  userGroups?: UserGroupComparison;
}

/** Accumulated state of a comparison. */
export interface ComparisonState {
  type: "comparison";
  theta0: number;
  fail: BetState;
  pass: CountTestState;
  canaryEvents: number;
  canaryTrials: number;
  stableEvents: number;
  stableTrials: number;
  /** The user-group test (user-group-test.ts), once a window carried group tallies. */
  groups?: GroupTestState;
  /** The block test's highest e-value in this step, kept for a later user-group rejection. */
  blockPeak?: BlockPeak;
}

/** A fresh comparison: no events, fresh tests. */
export function freshComparison(theta0: number, blockMs: number): ComparisonState {
  const pass = freshPass(theta0);
  return {
    type: "comparison",
    theta0,
    fail: bet("above", blockMs),
    pass,
    canaryEvents: 0,
    canaryTrials: 0,
    stableEvents: 0,
    stableTrials: 0,
  };
}

/** The state after one more window. */
export function observeComparison(
  c: ComparisonCondition,
  s: ComparisonState,
  w: WindowPoint,
): ComparisonState {
  const cw = c.extract(w);
  if (!cw) return s;
  const next = {
    ...s,
    canaryEvents: s.canaryEvents + cw.canaryEvents,
    canaryTrials: s.canaryTrials + cw.canaryRequests,
    stableEvents: s.stableEvents + cw.stableEvents,
    stableTrials: s.stableTrials + cw.stableRequests,
  };
  const stepped = {
    ...next,
    ...relativeStep(s, cw, w.startMs, s.theta0),
    ...userGroupStep(c.userGroups, s, w),
  };
  return { ...stepped, blockPeak: peakOf(s.blockPeak, stepped.fail) };
}

/** The state once every window before `nowMs` has been seen: closes finished blocks. */
export function settleComparison(s: ComparisonState, nowMs: number): ComparisonState {
  const groups = s.groups && settleGroupTest(s.groups, nowMs);
  const fail = settleBet(s.fail, nowMs);
  return { ...s, fail, blockPeak: peakOf(s.blockPeak, fail), ...(groups ? { groups } : {}) };
}

function ratioOf(s: ComparisonState): number | undefined {
  return s.canaryTrials > 0 && s.stableTrials > 0 && s.stableEvents > 0
    ? s.canaryEvents / s.canaryTrials / (s.stableEvents / s.stableTrials)
    : undefined;
}

/**
 * The comparison's verdict: fail (also by the user-group test when it has tallies, once the block
 * test has crossed in this step, now or earlier), pass, or not yet.
 */
export function judgeComparison(c: ComparisonCondition, s: ComparisonState, alpha: number): ConditionResult {
  const observed = `canary ${s.canaryEvents}/${s.canaryTrials}, stable ${s.stableEvents}/${s.stableTrials}`;
  const eFail = betEValue(s.fail);
  const ePass = eValue(s.pass);
  const base = { value: ratioOf(s), threshold: c.theta0, eValue: eFail };
  const limit = fmtE(1 / alpha);
  const worse = `${c.label}: canary worse than ${c.theta0}x stable`;
  if (eFail >= 1 / alpha) {
    const groups = userGroupVerdict(s.groups, alpha, `${worse} (e=${fmtE(eFail)} >= ${limit}; ${observed})`);
    return { ...groups, ...base };
  }
  const peak = s.blockPeak;
  const latched =
    s.groups &&
    peak &&
    peak.e >= 1 / alpha &&
    userGroupVerdict(s.groups, alpha, `${worse} (${latchedReason(peak, eFail, limit)}; ${observed})`);
  if (latched && latched.verdict === "fail") return { ...latched, ...base };
  if (ePass >= 1 / alpha) {
    const reason = `${c.label}: canary below ${c.theta0 * PASS_MARGIN}x stable (e=${fmtE(ePass)} >= ${limit}; ${observed})`;
    return { verdict: "pass", reason, ...base };
  }
  if (latched) return { ...latched, ...base };
  const reason = `${c.label}: not enough evidence yet (fail e=${fmtE(eFail)}, pass e=${fmtE(ePass)} of ${limit}; ${observed})`;
  return { verdict: "inconclusive", reason, ...base };
}
