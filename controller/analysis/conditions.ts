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
 * A condition reads one window at a time; its state is plain JSON numbers.
 */

import type { WindowPoint } from "../telemetry/types.js";
import { type BetState, betEValue, createBet, type Direction, observeBet, settleBet } from "./betting.js";
import { judgeRate, proportionInterval } from "./confidence.js";
import {
  freshMeanComparison,
  judgeMean,
  type MeanComparisonCondition,
  type MeanComparisonState,
  observeMean,
  settleMean,
} from "./mean-ratio.js";
import {
  type CountTestState,
  type CountWindow,
  createCountTest,
  eValue,
  passTestConfig,
  update,
} from "./eprocess.js";
import { userGroupStep, userGroupVerdict, type UserGroupComparison } from "./user-group-comparison.js";
import { type GroupTestState, settleGroupTest } from "./user-group-test.js";

export type Verdict = "pass" | "fail" | "inconclusive";

/** How far past the fail boundary θ0 the pass test's null sits (θ1 = PASS_MARGIN × θ0). */
export const PASS_MARGIN = 1.5;
/**
 * Default unit of analysis: blocks of this many ms of windows (docs/statistics.md "Blocks"). Events
 * closer together than this may be one cause (retries, a pod's burst, a GC pause) and count once.
 */
export const DEFAULT_BLOCK_MS = 10_000;
/** A fresh wealth starts about this often, for late onsets. */
export const RESTART_MS = 30_000;

/** Canary vs stable on bad events; null "canary rate ≤ θ0 × stable rate". */
export interface ComparisonCondition {
  type: "comparison";
  label: string;
  theta0: number;
  extract: (w: WindowPoint) => CountWindow | undefined;
  /** Failure comparisons: per-user-group failures and the weight, for the user-group test. */
  userGroups?: UserGroupComparison;
}

/** Bad events out of trials of one arm. */
export interface Tally {
  events: number;
  trials: number;
}

/** Canary's bad events out of trials against a maximum share `slo`; stable's alongside. */
export interface ProportionCondition {
  type: "proportion";
  label: string;
  slo: number;
  extract: (w: WindowPoint) => { canary?: Tally; stable?: Tally };
}

/** Canary's events per minute against `maxPerMinute`. */
export interface RateCondition {
  type: "rate";
  label: string;
  maxPerMinute: number;
  extract: (w: WindowPoint) => number;
}

/** A condition that cannot be judged with the inputs given (e.g. a missing baseline). */
export interface UnavailableCondition {
  type: "unavailable";
  label: string;
  reason: string;
}

export type Condition =
  | ComparisonCondition
  | ProportionCondition
  | RateCondition
  | UnavailableCondition
  | MeanComparisonCondition;

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
}

/** Accumulated state of an absolute ceiling. */
export interface ProportionState {
  type: "proportion";
  slo: number;
  fail: BetState;
  /** Stable against the same ceiling: has stable breached it during this step? */
  stableFail: BetState;
  stableBreached: boolean;
  /** Canary against stable on the ceiling's bad events (θ0 = 1): how a shared breach is judged. */
  relative: { fail: BetState; pass: CountTestState };
  canary: Tally;
  stable: Tally;
}

export interface RateState {
  type: "rate";
  events: number;
}

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

/** A fresh block betting test with blocks of `blockMs` (0: per event, restarting every 30 windows). */
export function bet(direction: Direction, blockMs: number): BetState {
  return createBet(direction, blockMs, Math.max(1, Math.round(RESTART_MS / (blockMs || 1000))));
}

function freshPass(theta0: number): CountTestState {
  const pass = createCountTest(passTestConfig(theta0 * PASS_MARGIN));
  if (pass instanceof Error) throw new Error(`invalid theta0 ${theta0}`);
  return pass;
}

function freshComparison(theta0: number, blockMs: number): ComparisonState {
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

function freshProportion(slo: number, blockMs: number): ProportionState {
  return {
    type: "proportion",
    slo,
    fail: bet("above", blockMs),
    stableFail: bet("above", blockMs),
    stableBreached: false,
    relative: { fail: bet("above", blockMs), pass: freshPass(1) },
    canary: { events: 0, trials: 0 },
    stable: { events: 0, trials: 0 },
  };
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

/** The canary's share of events a rate ratio θ allows when it has share s of the requests. */
export function nullShare(theta: number, s: number): number {
  return (theta * s) / (theta * s + 1 - s);
}

function observeComparison(c: ComparisonCondition, s: ComparisonState, w: WindowPoint): ComparisonState {
  const cw = c.extract(w);
  if (!cw) return s;
  const next = {
    ...s,
    canaryEvents: s.canaryEvents + cw.canaryEvents,
    canaryTrials: s.canaryTrials + cw.canaryRequests,
    stableEvents: s.stableEvents + cw.stableEvents,
    stableTrials: s.stableTrials + cw.stableRequests,
  };
  return { ...next, ...relativeStep(s, cw, w.startMs, s.theta0), ...userGroupStep(c.userGroups, s, w) };
}

/** The fail (block betting) and pass (count) tests of "canary ≤ θ0 × stable" after one window. */
function relativeStep(
  t: { fail: BetState; pass: CountTestState },
  cw: CountWindow,
  startMs: number,
  theta0: number,
): { fail: BetState; pass: CountTestState } {
  const f = cw.canaryEvents + cw.stableEvents;
  if (f <= 0 || cw.canaryRequests <= 0 || cw.stableRequests <= 0) return { fail: t.fail, pass: t.pass };
  const share = cw.canaryRequests / (cw.canaryRequests + cw.stableRequests);
  const q = nullShare(theta0, share);
  return {
    fail: observeBet(t.fail, { startMs, num: cw.canaryEvents, den: f, q }),
    pass: update(t.pass, cw),
  };
}

function add(t: Tally, d: Tally | undefined): Tally {
  return d ? { events: t.events + d.events, trials: t.trials + d.trials } : t;
}

function observeProportion(c: ProportionCondition, s: ProportionState, w: WindowPoint): ProportionState {
  const { canary, stable } = c.extract(w);
  const at = (t: Tally) => ({ startMs: w.startMs, num: t.events, den: t.trials, q: c.slo });
  return {
    ...s,
    canary: add(s.canary, canary),
    stable: add(s.stable, stable),
    fail: canary && canary.trials > 0 ? observeBet(s.fail, at(canary)) : s.fail,
    stableFail: stable && stable.trials > 0 ? observeBet(s.stableFail, at(stable)) : s.stableFail,
    relative:
      canary && stable
        ? relativeStep(
            s.relative,
            {
              canaryRequests: canary.trials,
              stableRequests: stable.trials,
              canaryEvents: canary.events,
              stableEvents: stable.events,
            },
            w.startMs,
            1,
          )
        : s.relative,
  };
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
  if (s?.type === "comparison") {
    const groups = s.groups && settleGroupTest(s.groups, nowMs);
    return { ...s, fail: settleBet(s.fail, nowMs), ...(groups ? { groups } : {}) };
  }
  if (s?.type === "meanComparison") return settleMean(s, nowMs);
  if (s?.type !== "proportion") return s;
  const stableFail = settleBet(s.stableFail, nowMs);
  return {
    ...s,
    fail: settleBet(s.fail, nowMs),
    relative: { ...s.relative, fail: settleBet(s.relative.fail, nowMs) },
    stableFail,
    stableBreached: s.stableBreached || betEValue(stableFail) >= 1 / alpha,
  };
}

function fmtE(e: number): string {
  return e >= 1000 ? e.toExponential(1) : e.toPrecision(3);
}

function pct(p: number): string {
  return `${(100 * p).toPrecision(3)}%`;
}

function ratioOf(s: ComparisonState): number | undefined {
  return s.canaryTrials > 0 && s.stableTrials > 0 && s.stableEvents > 0
    ? s.canaryEvents / s.canaryTrials / (s.stableEvents / s.stableTrials)
    : undefined;
}

function judgeComparison(c: ComparisonCondition, s: ComparisonState, alpha: number): ConditionResult {
  const observed = `canary ${s.canaryEvents}/${s.canaryTrials}, stable ${s.stableEvents}/${s.stableTrials}`;
  const eFail = betEValue(s.fail);
  const ePass = eValue(s.pass);
  const base = { value: ratioOf(s), threshold: c.theta0, eValue: eFail };
  const limit = fmtE(1 / alpha);
  if (eFail >= 1 / alpha) {
    const reason = `${c.label}: canary worse than ${c.theta0}x stable (e=${fmtE(eFail)} >= ${limit}; ${observed})`;
    const groups = userGroupVerdict(s.groups, alpha, reason);
    return { verdict: groups.verdict, reason: groups.reason, ...base };
  }
  if (ePass >= 1 / alpha) {
    const reason = `${c.label}: canary below ${c.theta0 * PASS_MARGIN}x stable (e=${fmtE(ePass)} >= ${limit}; ${observed})`;
    return { verdict: "pass", reason, ...base };
  }
  const reason = `${c.label}: not enough evidence yet (fail e=${fmtE(eFail)}, pass e=${fmtE(ePass)} of ${limit}; ${observed})`;
  return { verdict: "inconclusive", reason, ...base };
}

/**
 * A breach stable shares is an incident, not a canary verdict: the ceiling is then judged as
 * "canary no worse than stable on the same bad events" (fail: block betting at θ0 = 1; pass: the
 * count test below 1.5×), and holds while that is undecided.
 */
function judgeShared(
  c: ProportionCondition,
  s: ProportionState,
  alpha: number,
  lead: string,
): ConditionResult {
  const eFail = betEValue(s.relative.fail);
  const ePass = eValue(s.relative.pass);
  const base = { value: s.canary.events / s.canary.trials, threshold: c.slo, eValue: eFail };
  const limit = fmtE(1 / alpha);
  if (eFail >= 1 / alpha) {
    const reason = `${lead}; shared incident, and the canary is worse than stable in it (e=${fmtE(eFail)} >= ${limit})`;
    return { verdict: "fail", reason, ...base };
  }
  if (ePass >= 1 / alpha) {
    const reason = `${lead}; shared incident, judged against stable: canary no worse (e=${fmtE(ePass)} >= ${limit})`;
    return { verdict: "pass", reason, ...base };
  }
  const reason = `${lead}; holding: shared incident, not a canary verdict (vs stable: fail e=${fmtE(eFail)}, pass e=${fmtE(ePass)} of ${limit})`;
  return { verdict: "inconclusive", reason, ...base };
}

/**
 * Why stable shares the breach, or undefined: stable breached the ceiling earlier in this step
 * (its own fail test reached 1/α), or it is not clearly below the ceiling over the same windows now.
 */
function sharedBreach(s: ProportionState, alpha: number): string | undefined {
  if (s.stableBreached) return "stable breached it too in this step";
  if (s.stable.trials <= 0) return undefined;
  const upper = proportionInterval(s.stable.events, s.stable.trials, alpha).upper;
  return upper >= s.slo ? `stable is not clearly below it either (up to ${pct(upper)})` : undefined;
}

function judgeProportionCondition(
  c: ProportionCondition,
  s: ProportionState,
  ctx: JudgeContext,
): ConditionResult {
  if (s.canary.trials <= 0)
    return { verdict: "inconclusive", reason: `${c.label}: no canary data`, threshold: c.slo };
  const eFail = betEValue(s.fail);
  const range = proportionInterval(s.canary.events, s.canary.trials, ctx.alpha);
  const value = s.canary.events / s.canary.trials;
  const stableShare = s.stable.trials > 0 ? `, stable ${pct(s.stable.events / s.stable.trials)}` : "";
  const observed = `canary ${s.canary.events}/${s.canary.trials} = ${pct(value)}${stableShare}`;
  const base = { value, threshold: c.slo, eValue: eFail };
  const limit = 1 / ctx.alpha;
  if (eFail >= limit) {
    const above = `${c.label}: ${observed}, above max ${pct(c.slo)} (e=${fmtE(eFail)} >= ${fmtE(limit)})`;
    if (s.canary.trials < ctx.minRequests) {
      const reason = `${above}; holding: thin data, ${s.canary.trials} of ${ctx.minRequests} canary requests`;
      return { verdict: "inconclusive", reason, ...base };
    }
    const shared = sharedBreach(s, ctx.alpha);
    if (shared && !ctx.rollbackOnSharedIncident) return judgeShared(c, s, ctx.alpha, `${above}; ${shared}`);
    return { verdict: "fail", reason: above, ...base };
  }
  const within = `${100 * (1 - ctx.alpha)}% range ${pct(range.lower)}..${pct(range.upper)}`;
  if (range.upper < c.slo) {
    const reason = `${c.label}: ${observed}, ${within}, below max ${pct(c.slo)}`;
    return { verdict: "pass", reason, ...base };
  }
  const undecided = `${c.label}: ${observed}, not yet separable from max ${pct(c.slo)} (fail e=${fmtE(eFail)} of ${fmtE(limit)}, ${within})`;
  return passAgainstStable(s, ctx, undecided) ?? { verdict: "inconclusive", reason: undecided, ...base };
}

/**
 * A ceiling stable does not keep either (a loaded machine slowing both versions) cannot pass on the
 * canary's own interval: judged against the world, it passes when the canary is no worse than
 * stable (the count test below 1.5×), as a shared breach does. Only a pass: a fail still needs the
 * canary's own ceiling test, so this adds no test that can roll back. Off when the spec rolls back
 * on shared incidents (and at a 100% step, where stable cannot show anything).
 */
function passAgainstStable(
  s: ProportionState,
  ctx: JudgeContext,
  undecided: string,
): ConditionResult | undefined {
  if (ctx.rollbackOnSharedIncident) return undefined;
  const shared = sharedBreach(s, ctx.alpha);
  const ePass = eValue(s.relative.pass);
  if (!shared || ePass < 1 / ctx.alpha) return undefined;
  const reason = `${undecided}; ${shared}: judged against stable, canary no worse (e=${fmtE(ePass)} >= ${fmtE(1 / ctx.alpha)})`;
  return {
    verdict: "pass",
    reason,
    value: s.canary.events / s.canary.trials,
    threshold: s.slo,
    eValue: betEValue(s.fail),
  };
}

function judgeRateCondition(c: RateCondition, s: RateState, ctx: JudgeContext): ConditionResult {
  const minutes = ctx.exposureMs / 60_000;
  if (minutes <= 0)
    return { verdict: "inconclusive", reason: `${c.label}: no data`, threshold: c.maxPerMinute };
  const j = judgeRate(s.events, minutes, c.maxPerMinute, ctx.alpha);
  const perMinute = s.events / minutes;
  const range = `${j.interval.lower.toPrecision(3)}..${j.interval.upper.toPrecision(3)}`;
  const relation = { pass: "below", fail: "above", inconclusive: "not yet separable from" }[j.verdict];
  return {
    verdict: j.verdict,
    reason: `${c.label}: canary ${perMinute.toPrecision(3)}/min (range ${range}), ${relation} max ${c.maxPerMinute}/min`,
    value: perMinute,
    threshold: c.maxPerMinute,
    eValue: j.eValue,
  };
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
