/**
 * The canary's share of bad events against an absolute maximum, judged against the world: a breach
 * stable shares in the same period is an incident, not a canary verdict.
 */

import type { WindowPoint } from "../telemetry/types.js";
import { type BetState, betEValue, observeBet, settleBet } from "./betting.js";
import { bet, freshPass, relativeStep } from "./condition-tests.js";
import type { ConditionResult, JudgeContext } from "./conditions.js";
import { proportionInterval } from "./confidence.js";
import { type CountTestState, eValue } from "./eprocess.js";
import { fmtE, pct } from "./reason-format.js";

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

/** A fresh ceiling: no events, fresh tests for the canary, stable, and canary against stable. */
export function freshProportion(slo: number, blockMs: number): ProportionState {
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

function add(t: Tally, d: Tally | undefined): Tally {
  return d ? { events: t.events + d.events, trials: t.trials + d.trials } : t;
}

/** The state after one more window. */
export function observeProportion(
  c: ProportionCondition,
  s: ProportionState,
  w: WindowPoint,
): ProportionState {
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

/**
 * The state once every window before `nowMs` has been seen: closes finished blocks. `alpha` (per
 * test) decides whether stable has breached the ceiling, which is remembered for the step.
 */
export function settleProportion(s: ProportionState, nowMs: number, alpha: number): ProportionState {
  const stableFail = settleBet(s.stableFail, nowMs);
  return {
    ...s,
    fail: settleBet(s.fail, nowMs),
    relative: { ...s.relative, fail: settleBet(s.relative.fail, nowMs) },
    stableFail,
    stableBreached: s.stableBreached || betEValue(stableFail) >= 1 / alpha,
  };
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

/** The ceiling's verdict: thin data holds, a shared breach is judged against stable. */
export function judgeProportionCondition(
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
