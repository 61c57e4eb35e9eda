/** Canary's events per minute against an absolute maximum, judged by a confidence sequence. */

import type { ConditionResult, JudgeContext } from "./conditions.js";
import type { WindowPoint } from "../telemetry/types.js";
import { judgeRate } from "./confidence.js";

/** Canary's events per minute against `maxPerMinute`. */
export interface RateCondition {
  type: "rate";
  label: string;
  maxPerMinute: number;
  extract: (w: WindowPoint) => number;
}

/** Accumulated state of a rate: the canary's events so far. */
export interface RateState {
  type: "rate";
  events: number;
}

/** The rate's verdict over the exposure so far. */
export function judgeRateCondition(c: RateCondition, s: RateState, ctx: JudgeContext): ConditionResult {
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
