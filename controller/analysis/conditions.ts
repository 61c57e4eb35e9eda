/**
 * The three statistical conditions every check is built from, with their incremental state:
 * - comparison: a count of bad events, canary against stable, through the fail and pass count tests;
 * - proportion: the canary's share of bad events against an absolute maximum (confidence sequence);
 * - rate: the canary's events per minute against an absolute maximum (confidence sequence).
 * A condition reads one window at a time; its state is plain JSON numbers.
 */

import type { WindowPoint } from "../telemetry/types.js";
import { judgeProportion, judgeRate } from "./confidence.js";
import {
  type CountTestState,
  type CountWindow,
  createCountTest,
  eValue,
  failTestConfig,
  passTestConfig,
  update,
} from "./eprocess.js";

export type Verdict = "pass" | "fail" | "inconclusive";

/** How far past the fail boundary θ0 the pass test's null sits (θ1 = PASS_MARGIN × θ0). */
export const PASS_MARGIN = 1.5;

/** Canary vs stable on bad events; null "canary rate ≤ θ0 × stable rate". */
export interface ComparisonCondition {
  type: "comparison";
  label: string;
  theta0: number;
  extract: (w: WindowPoint) => CountWindow | undefined;
}

/** Canary's bad events out of trials against a maximum share `slo`. */
export interface ProportionCondition {
  type: "proportion";
  label: string;
  slo: number;
  extract: (w: WindowPoint) => { events: number; trials: number } | undefined;
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

export type Condition = ComparisonCondition | ProportionCondition | RateCondition | UnavailableCondition;

/** Accumulated state of a comparison. */
export interface ComparisonState {
  type: "comparison";
  fail: CountTestState;
  pass: CountTestState;
  canaryEvents: number;
  canaryTrials: number;
  stableEvents: number;
  stableTrials: number;
}

export interface ProportionState {
  type: "proportion";
  slo: number;
  events: number;
  trials: number;
}

export interface RateState {
  type: "rate";
  events: number;
}

export type ConditionState = ComparisonState | ProportionState | RateState;

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
  alpha: number;
  /** Wall time covered by the windows consumed so far, in ms (for rates). */
  exposureMs: number;
}

function freshComparison(theta0: number): ComparisonState {
  const fail = createCountTest(failTestConfig(theta0));
  const pass = createCountTest(passTestConfig(theta0 * PASS_MARGIN));
  if (fail instanceof Error || pass instanceof Error) throw new Error(`invalid theta0 ${theta0}`);
  return {
    type: "comparison",
    fail,
    pass,
    canaryEvents: 0,
    canaryTrials: 0,
    stableEvents: 0,
    stableTrials: 0,
  };
}

/** The state to continue from: the previous one if it belongs to this condition, else a fresh one. */
export function initialState(c: Condition, previous: ConditionState | undefined): ConditionState | undefined {
  switch (c.type) {
    case "comparison":
      return previous?.type === "comparison" && previous.fail.theta0 === c.theta0
        ? previous
        : freshComparison(c.theta0);
    case "proportion":
      return previous?.type === "proportion" && previous.slo === c.slo
        ? previous
        : { type: "proportion", slo: c.slo, events: 0, trials: 0 };
    case "rate":
      return previous?.type === "rate" ? previous : { type: "rate", events: 0 };
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
  if (c.type === "comparison" && s?.type === "comparison") {
    const cw = c.extract(w);
    if (!cw) return s;
    return {
      ...s,
      fail: update(s.fail, cw),
      pass: update(s.pass, cw),
      canaryEvents: s.canaryEvents + cw.canaryEvents,
      canaryTrials: s.canaryTrials + cw.canaryRequests,
      stableEvents: s.stableEvents + cw.stableEvents,
      stableTrials: s.stableTrials + cw.stableRequests,
    };
  }
  if (c.type === "proportion" && s?.type === "proportion") {
    const pw = c.extract(w);
    if (!pw) return s;
    return { ...s, events: s.events + pw.events, trials: s.trials + pw.trials };
  }
  if (c.type === "rate" && s?.type === "rate") return { ...s, events: s.events + c.extract(w) };
  return s;
}

function fmtE(e: number): string {
  return e >= 1000 ? e.toExponential(1) : e.toPrecision(3);
}

function pct(p: number): string {
  return `${(100 * p).toPrecision(3)}%`;
}

function judgeComparison(c: ComparisonCondition, s: ComparisonState, alpha: number): ConditionResult {
  const ratio =
    s.canaryTrials > 0 && s.stableTrials > 0 && s.stableEvents > 0
      ? s.canaryEvents / s.canaryTrials / (s.stableEvents / s.stableTrials)
      : undefined;
  const observed = `canary ${s.canaryEvents}/${s.canaryTrials}, stable ${s.stableEvents}/${s.stableTrials}`;
  const eFail = eValue(s.fail);
  const ePass = eValue(s.pass);
  const base = { value: ratio, threshold: c.theta0 };
  if (eFail >= 1 / alpha) {
    const reason = `${c.label}: canary worse than ${c.theta0}x stable (e=${fmtE(eFail)} >= ${1 / alpha}; ${observed})`;
    return { verdict: "fail", reason, eValue: eFail, ...base };
  }
  if (ePass >= 1 / alpha) {
    const reason = `${c.label}: canary below ${s.pass.theta0}x stable (e=${fmtE(ePass)} >= ${1 / alpha}; ${observed})`;
    return { verdict: "pass", reason, eValue: eFail, ...base };
  }
  const reason = `${c.label}: not enough evidence yet (fail e=${fmtE(eFail)}, pass e=${fmtE(ePass)}; ${observed})`;
  return { verdict: "inconclusive", reason, eValue: eFail, ...base };
}

function judgeProportionCondition(
  c: ProportionCondition,
  s: ProportionState,
  alpha: number,
): ConditionResult {
  if (s.trials <= 0)
    return { verdict: "inconclusive", reason: `${c.label}: no canary data`, threshold: c.slo };
  const j = judgeProportion(s.events, s.trials, c.slo, alpha);
  const range = `${pct(j.interval.lower)}..${pct(j.interval.upper)}`;
  const observed = `${s.events}/${s.trials} = ${pct(s.events / s.trials)}, ${100 * (1 - alpha)}% range ${range}`;
  const relation = { pass: "below", fail: "above", inconclusive: "not yet separable from" }[j.verdict];
  return {
    verdict: j.verdict,
    reason: `${c.label}: canary ${observed}, ${relation} max ${pct(c.slo)}`,
    value: s.events / s.trials,
    threshold: c.slo,
    eValue: j.eValue,
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
  if (c.type === "proportion" && s?.type === "proportion") return judgeProportionCondition(c, s, ctx.alpha);
  if (c.type === "rate" && s?.type === "rate") return judgeRateCondition(c, s, ctx);
  if (c.type === "unavailable") return { verdict: "inconclusive", reason: `${c.label}: ${c.reason}` };
  return { verdict: "inconclusive", reason: `${c.label}: no state` };
}
