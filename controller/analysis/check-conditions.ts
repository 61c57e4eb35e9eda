/**
 * How each check kind (checks.ts) is built from the statistical conditions in conditions.ts.
 *
 * - failureRate: `max` is an absolute ceiling on the canary's failure share, judged against the
 *   world: a breach stable shares in the same step holds instead of failing (proportion-condition.ts).
 *   `maxRatio` r tests "canary rate ≤ r × stable rate" on the same windows (count e-process, θ0 = r;
 *   1.0 means "no worse than stable"). `maxIncrease` δ is an absolute increase over stable, turned
 *   into a ratio with stable's failure rate measured before the step: θ0 = (p_b + δ) / p_b.
 * - latency: requests slower than a threshold are bad events. `maxMs` checks the quantile directly:
 *   "p_q ≤ maxMs" ⇔ "share slower than maxMs ≤ 1 − q" (confidence sequence). `maxRatio` r compares
 *   with stable: with T0 = stable's q-quantile measured before the step, the canary's requests slower
 *   than r·T0 against stable's slower than T0, count test at θ0 = 1. If the canary is stable slowed
 *   down by at most r, its tail above r·T0 is no heavier than stable's above T0, and a slowdown of
 *   both arms alike (shared dependency) cancels out. Like the failure-rate comparisons it fails only
 *   when the user-group test on the filter's per-group counts above those two thresholds agrees
 *   (user-group-comparison.ts `slowGroups`): sticky slow users are a persistent offset.
 * - metricPerRequest: the same construction as the latency ratio on a response metric's sketch with
 *   T0 = stable's mean per request before the step (e.g. tokens ≤ 1.5 × stable).
 *   With `quantile`, T0 is stable's quantile of the metric before the step instead (e.g. p95 time
 *   to first token ≤ 1.5 × stable's p95): the latency-ratio construction on the metric's sketch.
 * - metricMean: a metric's mean per request (tokens, cost, length) against maxRatio × stable's mean
 *   on the same windows: block means of both arms, a self-normalised betting test (mean-ratio.ts).
 *   Unlike metricPerRequest it sees a 2x rise on a minority of requests, and needs no baseline.
 * - metricRate: the canary's sum of a metric per minute of wall time against `maxPerMinute`
 *   (gamma-Poisson confidence sequence; approximate for bursty events).
 * - metricShare: a 0/1 event metric (e.g. llm-schema-failures: sum = events, count = responses
 *   judged) as a failure rate, with the failureRate tests: `max` ceiling, `maxRatio` vs stable.
 * Thresholds come from configuration or from before the step, never from the windows being judged.
 */

import { countAbove } from "../telemetry/sketch.js";
import type { VariantStats, WindowPoint } from "../telemetry/types.js";
import type {
  Baselines,
  Check,
  FailureRateCheck,
  LatencyCheck,
  MetricMeanCheck,
  MetricPerRequestCheck,
  MetricRateCheck,
  MetricShareCheck,
  Variants,
} from "./checks.js";
import { metricQuantileKey, quantileKey } from "./checks.js";
import type { Condition } from "./conditions.js";
import { failureGroups, slowGroups, type UserGroupComparison } from "./user-group-comparison.js";

/** The canary and stable stats of a window (either may be missing). */
interface Arms {
  canary?: VariantStats;
  stable?: VariantStats;
}

function arms(w: WindowPoint, v: Variants): Arms {
  return { canary: w.variants.get(v.canary), stable: w.variants.get(v.stable) };
}

/** Events and trials of one arm (failures of requests, or a 0/1 metric's sum of its count). */
type Tally = (s: VariantStats) => { events: number; trials: number } | undefined;

const failureTally: Tally = (s) => ({ events: s.failures, trials: s.requests });

/** An absolute ceiling on the canary's event share (judged against the world, proportion-condition.ts). */
function shareCeiling(label: string, slo: number, v: Variants, tally: Tally): Condition {
  return {
    type: "proportion",
    label,
    slo,
    extract: (w) => {
      const { canary, stable } = arms(w, v);
      return { canary: canary && tally(canary), stable: stable && tally(stable) };
    },
  };
}

/** Canary's event share against θ0 × stable's (count e-process). */
function shareComparison(
  label: string,
  theta0: number,
  v: Variants,
  tally: Tally,
  userGroups?: UserGroupComparison,
): Condition {
  return {
    type: "comparison",
    label,
    theta0,
    ...(userGroups ? { userGroups } : {}),
    extract: (w) => {
      const { canary, stable } = arms(w, v);
      const c = canary && tally(canary);
      const s = stable && tally(stable);
      return (
        c &&
        s && {
          canaryRequests: c.trials,
          stableRequests: s.trials,
          canaryEvents: c.events,
          stableEvents: s.events,
        }
      );
    },
  };
}

function failureConditions(c: FailureRateCheck, v: Variants, b: Baselines): Condition[] {
  const out: Condition[] = [];
  if (c.max !== undefined) out.push(shareCeiling("failure rate", c.max, v, failureTally));
  const compare = (label: string, theta0: number) =>
    shareComparison(label, theta0, v, failureTally, failureGroups(v));
  if (c.maxRatio !== undefined) out.push(compare("failure rate vs stable", c.maxRatio));
  if (c.maxIncrease !== undefined) {
    const pb = b.stableFailureRate;
    out.push(
      pb !== undefined && pb > 0
        ? compare(`failure rate increase (baseline ${pb})`, (pb + c.maxIncrease) / pb)
        : {
            type: "unavailable",
            label: "failure rate increase",
            reason: "needs stable's failure rate before the step (baselines.stableFailureRate > 0)",
          },
    );
  }
  return out;
}

/**
 * Canary's values above ratio·t0 against stable's above t0, from a sketch picked out of each arm.
 * The request count of each arm is the sketch's count.
 */
function tailComparison(
  label: string,
  v: Variants,
  t0: number,
  ratio: number,
  sketchOf: (s: VariantStats) => { count: number; sketch: Parameters<typeof countAbove>[0] } | undefined,
  userGroups?: UserGroupComparison,
): Condition {
  return {
    type: "comparison",
    label,
    theta0: 1,
    ...(userGroups ? { userGroups } : {}),
    extract: (w) => {
      const { canary, stable } = arms(w, v);
      const c = canary && sketchOf(canary);
      const s = stable && sketchOf(stable);
      if (!c || !s) return undefined;
      return {
        canaryRequests: c.count,
        stableRequests: s.count,
        canaryEvents: countAbove(c.sketch, ratio * t0),
        stableEvents: countAbove(s.sketch, t0),
      };
    },
  };
}

function latencyConditions(c: LatencyCheck, v: Variants, b: Baselines): Condition[] {
  const out: Condition[] = [];
  const latency = (s: VariantStats) => ({ count: s.latencyUs.count, sketch: s.latencyUs });
  if (c.maxMs !== undefined) {
    const thresholdUs = c.maxMs * 1000;
    out.push({
      type: "proportion",
      label: `share slower than ${c.maxMs} ms`,
      slo: 1 - c.quantile,
      extract: (w) => {
        const { canary, stable } = arms(w, v);
        const tally = (a: VariantStats | undefined) =>
          a && { events: countAbove(a.latencyUs, thresholdUs), trials: a.latencyUs.count };
        return { canary: tally(canary), stable: tally(stable) };
      },
    });
  }
  if (c.maxRatio !== undefined) {
    const t0 = b.stableLatencyUs?.[quantileKey(c.quantile)];
    const label = `p${100 * c.quantile} vs ${c.maxRatio}x stable`;
    out.push(
      t0 !== undefined && t0 > 0
        ? tailComparison(label, v, t0, c.maxRatio, latency, slowGroups(v, c.maxRatio * t0, t0))
        : {
            type: "unavailable",
            label,
            reason: `needs stable's p${100 * c.quantile} before the step (baselines)`,
          },
    );
  }
  return out;
}

function metricPerRequestConditions(c: MetricPerRequestCheck, v: Variants, b: Baselines): Condition[] {
  const q = c.quantile;
  const t0 =
    q === undefined
      ? b.stableMetricMean?.[c.metric]
      : b.stableMetricQuantile?.[metricQuantileKey(c.metric, q)];
  const figure = q === undefined ? "mean" : `p${100 * q}`;
  const label = `${c.metric} ${q === undefined ? "per request" : figure} vs ${c.maxRatio}x stable`;
  if (t0 === undefined || !(t0 > 0)) {
    return [
      {
        type: "unavailable",
        label,
        reason: `needs stable's ${figure} ${c.metric} before the step (baselines)`,
      },
    ];
  }
  return [
    tailComparison(label, v, t0, c.maxRatio, (s) => {
      const m = s.metrics.get(c.metric);
      return m && { count: m.count, sketch: m.sketch };
    }),
  ];
}

function metricMeanConditions(c: MetricMeanCheck, v: Variants): Condition[] {
  const of = (s: VariantStats | undefined) => s?.metrics.get(c.metric);
  return [
    {
      type: "meanComparison",
      label: `${c.metric} mean per request vs ${c.maxRatio}x stable`,
      ratio: c.maxRatio,
      extract: (w) => {
        const { canary, stable } = arms(w, v);
        return { canary: of(canary), stable: of(stable) };
      },
    },
  ];
}

function metricRateConditions(c: MetricRateCheck, v: Variants): Condition[] {
  return [
    {
      type: "rate",
      label: `${c.metric} per minute`,
      maxPerMinute: c.maxPerMinute,
      extract: (w) => arms(w, v).canary?.metrics.get(c.metric)?.sum ?? 0,
    },
  ];
}

function metricShareConditions(c: MetricShareCheck, v: Variants): Condition[] {
  const tally: Tally = (s) => {
    const m = s.metrics.get(c.metric);
    // A 0/1 metric's sum counts events; a peer's sum outside [0, count] is held to it.
    return m && { events: Math.min(Math.max(m.sum, 0), m.count), trials: m.count };
  };
  const out: Condition[] = [];
  if (c.max !== undefined) out.push(shareCeiling(`${c.metric} rate`, c.max, v, tally));
  if (c.maxRatio !== undefined) out.push(shareComparison(`${c.metric} rate vs stable`, c.maxRatio, v, tally));
  return out;
}

/** The statistical conditions a check is made of, with thresholds fixed from config and baselines. */
export function conditionsOf(c: Check, v: Variants, b: Baselines): Condition[] {
  switch (c.kind) {
    case "failureRate":
      return failureConditions(c, v, b);
    case "latency":
      return latencyConditions(c, v, b);
    case "metricPerRequest":
      return metricPerRequestConditions(c, v, b);
    case "metricMean":
      return metricMeanConditions(c, v);
    case "metricRate":
      return metricRateConditions(c, v);
    case "metricShare":
      return metricShareConditions(c, v);
  }
}
