/**
 * The three statistical conditions every check is built from, with their incremental state:
 * - comparison: bad events, canary against stable: is the canary's share of them above what its
 *   traffic share allows under "canary rate ≤ θ0 × stable rate"? (fail test: block betting; the
 *   pass test is the count e-process of eprocess.ts at θ1 = 1.5·θ0);
 * - proportion: the canary's share of bad events against an absolute maximum, judged against the
 *   world: a breach stable shares in the same period is an incident, not a canary verdict;
 * - rate: the canary's events per minute against an absolute maximum (confidence sequence).
 * - meanComparison: a metric's mean per request, canary against ratio × stable (mean-ratio.ts).
 * Every test that can roll back (comparison and ceiling fail tests) is the block betting e-detector
 * of betting.ts, so clusters of events (retries, pod bursts, GC pauses) count once per block rather
 * than once per request. Pass tests stay per event (a bounded block share cannot show a small share
 * is smaller still faster than ~q nats per block): dependence makes them optimistic, which delays
 * nothing but can promote early; the fail tests keep running until the step ends.
 * A condition reads one window at a time; its state is plain JSON numbers. This file is the union
 * and its dispatch; each kind lives in <kind>-condition.ts (mean-ratio.ts for meanComparison).
 */

import type { WindowPoint } from "../telemetry/types.js";
import { bet } from "./condition-tests.js";
import {
  type ComparisonCondition,
  type ComparisonState,
  freshComparison,
  judgeComparison,
  observeComparison,
  settleComparison,
} from "./comparison-condition.js";
import {
  freshMeanComparison,
  judgeMean,
  type MeanComparisonCondition,
  type MeanComparisonState,
  observeMean,
  settleMean,
} from "./mean-ratio.js";
import {
  freshProportion,
  judgeProportionCondition,
  observeProportion,
  type ProportionCondition,
  type ProportionState,
  settleProportion,
} from "./proportion-condition.js";
import { judgeRateCondition, type RateCondition, type RateState } from "./rate-condition.js";

/** What a condition, a check or an analysis concludes. */
export type Verdict = "pass" | "fail" | "inconclusive";

/**
 * Default unit of analysis: blocks of this many ms of windows (docs/statistics.md "Blocks"). Events
 * closer together than this may be one cause (retries, a pod's burst, a GC pause) and count once.
 */
export const DEFAULT_BLOCK_MS = 10_000;

/** A condition that cannot be judged with the inputs given (e.g. a missing baseline). */
export interface UnavailableCondition {
  type: "unavailable";
  label: string;
  reason: string;
}

/** Every kind of condition a check can be built from. */
export type Condition =
  | ComparisonCondition
  | ProportionCondition
  | RateCondition
  | UnavailableCondition
  | MeanComparisonCondition;

/** The accumulated state of any kind of condition (plain JSON). */
export type ConditionState = ComparisonState | ProportionState | RateState | MeanComparisonState;

/** What a condition says now. */
export interface ConditionResult {
  verdict: Verdict;
  reason: string;
  value?: number;
  threshold?: number;
  eValue?: number;
}

/** Statistical settings shared by all conditions of one evaluation. */
export interface JudgeContext {
  /** The false-verdict rate of each test (the Canary's alpha already split across tests and steps). */
  alpha: number;
  /** Wall time covered by the windows consumed so far, in ms (for rates). */
  exposureMs: number;
  /** Canary requests needed before a ceiling may fail (thin data holds). */
  minRequests: number;
  /** Roll back on a ceiling breach that stable shares (default: hold). */
  rollbackOnSharedIncident?: boolean;
}

/** The state to continue from: the previous one if it belongs to this condition, else a fresh one. */
export function initialState(
  c: Condition,
  previous: ConditionState | undefined,
  blockMs: number,
): ConditionState | undefined {
  switch (c.type) {
    case "comparison":
      return previous?.type === "comparison" &&
        previous.theta0 === c.theta0 &&
        previous.fail?.blockMs === blockMs
        ? previous
        : freshComparison(c.theta0, blockMs);
    case "proportion":
      return previous?.type === "proportion" &&
        previous.slo === c.slo &&
        previous.fail?.blockMs === blockMs &&
        previous.relative !== undefined
        ? previous
        : freshProportion(c.slo, blockMs);
    case "rate":
      return previous?.type === "rate" ? previous : { type: "rate", events: 0 };
    case "meanComparison":
      return previous?.type === "meanComparison" &&
        previous.ratio === c.ratio &&
        previous.fail?.blockMs === blockMs
        ? previous
        : freshMeanComparison(c.ratio, bet("above", blockMs), bet("below", blockMs));
    case "unavailable":
      return previous;
  }
}

/** The state after one more window. */
export function observe(
  c: Condition,
  s: ConditionState | undefined,
  w: WindowPoint,
): ConditionState | undefined {
  if (c.type === "comparison" && s?.type === "comparison") return observeComparison(c, s, w);
  if (c.type === "proportion" && s?.type === "proportion") return observeProportion(c, s, w);
  if (c.type === "rate" && s?.type === "rate") return { ...s, events: s.events + c.extract(w) };
  if (c.type === "meanComparison" && s?.type === "meanComparison") return observeMean(c, s, w);
  return s;
}

/**
 * The state once every window before `nowMs` has been seen: closes finished blocks. `alpha` (per
 * test) decides whether stable has breached a ceiling, which is remembered for the step.
 */
export function settle(
  s: ConditionState | undefined,
  nowMs: number,
  alpha: number,
): ConditionState | undefined {
  if (s?.type === "comparison") return settleComparison(s, nowMs);
  if (s?.type === "meanComparison") return settleMean(s, nowMs);
  if (s?.type !== "proportion") return s;
  return settleProportion(s, nowMs, alpha);
}

/** The condition's verdict from its accumulated state. */
export function judge(c: Condition, s: ConditionState | undefined, ctx: JudgeContext): ConditionResult {
  if (c.type === "comparison" && s?.type === "comparison") return judgeComparison(c, s, ctx.alpha);
  if (c.type === "proportion" && s?.type === "proportion") return judgeProportionCondition(c, s, ctx);
  if (c.type === "rate" && s?.type === "rate") return judgeRateCondition(c, s, ctx);
  if (c.type === "meanComparison" && s?.type === "meanComparison") return judgeMean(c, s, ctx.alpha);
  if (c.type === "unavailable") return { verdict: "inconclusive", reason: `${c.label}: ${c.reason}` };
  return { verdict: "inconclusive", reason: `${c.label}: no state` };
}
