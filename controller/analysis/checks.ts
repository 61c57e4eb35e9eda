/**
 * Check kinds (DESIGN §5 "Analysis"): their configuration, validation, and how each is built from
 * the statistical conditions in conditions.ts.
 *
 * - failureRate: `max` is an absolute ceiling on the canary's failure share, judged against the
 *   world: a breach stable shares in the same step holds instead of failing (conditions.ts).
 *   `maxRatio` r tests "canary rate ≤ r × stable rate" on the same windows (count e-process, θ0 = r;
 *   1.0 means "no worse than stable"). `maxIncrease` δ is an absolute increase over stable, turned
 *   into a ratio with stable's failure rate measured before the step: θ0 = (p_b + δ) / p_b.
 * - latency: requests slower than a threshold are bad events. `maxMs` checks the quantile directly:
 *   "p_q ≤ maxMs" ⇔ "share slower than maxMs ≤ 1 − q" (confidence sequence). `maxRatio` r compares
 *   with stable: with T0 = stable's q-quantile measured before the step, the canary's requests slower
 *   than r·T0 against stable's slower than T0, count test at θ0 = 1. If the canary is stable slowed
 *   down by at most r, its tail above r·T0 is no heavier than stable's above T0, and a slowdown of
 *   both arms alike (shared dependency) cancels out.
 * - metricPerRequest: the same construction as the latency ratio on a response metric's sketch with
 *   T0 = stable's mean per request before the step (e.g. tokens ≤ 1.5 × stable).
 *   With `quantile`, T0 is stable's quantile of the metric before the step instead (e.g. p95 time
 *   to first token ≤ 1.5 × stable's p95): the latency-ratio construction on the metric's sketch.
 * - metricRate: the canary's sum of a metric per minute of wall time against `maxPerMinute`
 *   (gamma-Poisson confidence sequence; approximate for bursty events).
 * - metricShare: a 0/1 event metric (e.g. llm-schema-failures: sum = events, count = responses
 *   judged) as a failure rate, with the failureRate tests: `max` ceiling, `maxRatio` vs stable.
 * Thresholds come from configuration or from before the step, never from the windows being judged.
 */

import { countAbove } from "../telemetry/sketch.js";
import type { VariantStats, WindowPoint } from "../telemetry/types.js";
import type { Condition } from "./conditions.js";
import { failureGroups, type UserGroupComparison } from "./user-group-comparison.js";

interface CheckCommon {
  /** Unique within one analysis; state is kept under this name. */
  name: string;
  /** A pass or fail counts only once it has held at every evaluation for this long. */
  sustainedForMs?: number;
}

/** Failure rate of the canary: absolute ceiling and/or relative to stable. */
export interface FailureRateCheck extends CheckCommon {
  kind: "failureRate";
  /** Maximum failure share, 0..1 (e.g. 0.01). */
  max?: number;
  /** Maximum ratio canary rate / stable rate (1.0 = no worse than stable). */
  maxRatio?: number;
  /** Maximum absolute increase over stable's pre-step failure rate, 0..1. */
  maxIncrease?: number;
}

/** A latency quantile of the canary: absolute ceiling and/or relative to stable. */
export interface LatencyCheck extends CheckCommon {
  kind: "latency";
  /** The quantile, in (0, 1) (e.g. 0.99). */
  quantile: number;
  /** Maximum value of the quantile in milliseconds. */
  maxMs?: number;
  /** Maximum ratio to stable's quantile before the step. */
  maxRatio?: number;
}

/** A custom response metric per request relative to stable (e.g. tokens). */
export interface MetricPerRequestCheck extends CheckCommon {
  kind: "metricPerRequest";
  /** Metric name as reported by the filter. */
  metric: string;
  /** Maximum ratio to stable's pre-step mean per request (or quantile, when set). */
  maxRatio: number;
  /** Compare this quantile, in (0, 1), instead of the mean. */
  quantile?: number;
}

/** The share of responses with a 0/1 event metric, tested like the failure rate. */
export interface MetricShareCheck extends CheckCommon {
  kind: "metricShare";
  /** Metric name as reported by the filter; sum = events, count = responses judged. */
  metric: string;
  /** Maximum share, 0..1. */
  max?: number;
  /** Maximum ratio canary share / stable share. */
  maxRatio?: number;
}

/** A custom metric's events per minute on the canary (e.g. guardrail blocks). */
export interface MetricRateCheck extends CheckCommon {
  kind: "metricRate";
  /** Metric name as reported by the filter; its values are summed. */
  metric: string;
  /** Maximum events per minute. */
  maxPerMinute: number;
}

export type Check =
  | FailureRateCheck
  | LatencyCheck
  | MetricPerRequestCheck
  | MetricRateCheck
  | MetricShareCheck;
export type CheckKind = Check["kind"];

/** Stable's figures measured before the current step (thresholds fixed before the data they judge). */
export interface Baselines {
  /** Stable's failure share. */
  stableFailureRate?: number;
  /** Stable's latency quantiles in µs, keyed by the quantile as a string (e.g. "0.99"). */
  stableLatencyUs?: Record<string, number>;
  /** Stable's mean per request of each custom metric. */
  stableMetricMean?: Record<string, number>;
  /** Stable's quantiles of custom metrics, keyed by metricQuantileKey. */
  stableMetricQuantile?: Record<string, number>;
}

/** Key of a metric's quantile in Baselines.stableMetricQuantile. */
export function metricQuantileKey(metric: string, q: number): string {
  return `${metric}@${quantileKey(q)}`;
}

function positive(v: unknown): boolean {
  return typeof v === "number" && Number.isFinite(v) && v > 0;
}

function share(v: unknown): boolean {
  return typeof v === "number" && v > 0 && v < 1;
}

function optional(path: string, v: unknown, ok: (v: unknown) => boolean, want: string): string | undefined {
  return v === undefined || ok(v) ? undefined : `${path}: must be ${want}, got ${JSON.stringify(v)}`;
}

function kindErrors(c: Check, path: string): (string | undefined)[] {
  switch (c.kind) {
    case "failureRate":
      return [
        optional(`${path}.max`, c.max, share, "a share in (0, 1)"),
        optional(`${path}.maxRatio`, c.maxRatio, positive, "a positive number"),
        optional(`${path}.maxIncrease`, c.maxIncrease, share, "a share in (0, 1)"),
        c.max === undefined && c.maxRatio === undefined && c.maxIncrease === undefined
          ? `${path}: needs at least one of max, maxRatio, maxIncrease`
          : undefined,
      ];
    case "latency":
      return [
        share(c.quantile)
          ? undefined
          : `${path}.quantile: must be in (0, 1), got ${JSON.stringify(c.quantile)}`,
        optional(`${path}.maxMs`, c.maxMs, positive, "a positive number"),
        optional(`${path}.maxRatio`, c.maxRatio, positive, "a positive number"),
        c.maxMs === undefined && c.maxRatio === undefined ? `${path}: needs maxMs or maxRatio` : undefined,
      ];
    case "metricPerRequest":
      return [
        c.metric ? undefined : `${path}.metric: must be a metric name`,
        positive(c.maxRatio) ? undefined : `${path}.maxRatio: must be a positive number, got ${c.maxRatio}`,
        optional(`${path}.quantile`, c.quantile, share, "in (0, 1)"),
      ];
    case "metricShare":
      return [
        c.metric ? undefined : `${path}.metric: must be a metric name`,
        optional(`${path}.max`, c.max, share, "a share in (0, 1)"),
        optional(`${path}.maxRatio`, c.maxRatio, positive, "a positive number"),
        c.max === undefined && c.maxRatio === undefined ? `${path}: needs max or maxRatio` : undefined,
      ];
    case "metricRate":
      return [
        c.metric ? undefined : `${path}.metric: must be a metric name`,
        positive(c.maxPerMinute)
          ? undefined
          : `${path}.maxPerMinute: must be a positive number, got ${JSON.stringify(c.maxPerMinute)}`,
      ];
    default:
      return [`${path}.kind: unknown check kind ${JSON.stringify((c as { kind: unknown }).kind)}`];
  }
}

/** All problems with a list of checks, each naming the field path and value; empty when valid. */
export function validateChecks(checks: readonly Check[], path = "checks"): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  checks.forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!c.name) errors.push(`${p}.name: must be a non-empty string`);
    else if (seen.has(c.name)) errors.push(`${p}.name: duplicate check name ${JSON.stringify(c.name)}`);
    seen.add(c.name);
    const sustained = optional(
      `${p}.sustainedForMs`,
      c.sustainedForMs,
      (v) => typeof v === "number" && v >= 0,
      "≥ 0",
    );
    for (const e of [sustained, ...kindErrors(c, p)]) if (e) errors.push(e);
  });
  return errors;
}

/** The canary and stable stats of a window (either may be missing). */
export interface Arms {
  canary?: VariantStats;
  stable?: VariantStats;
}

/** Which variants a check compares. */
export interface Variants {
  canary: string;
  stable: string;
}

function arms(w: WindowPoint, v: Variants): Arms {
  return { canary: w.variants.get(v.canary), stable: w.variants.get(v.stable) };
}

/** Events and trials of one arm (failures of requests, or a 0/1 metric's sum of its count). */
type Tally = (s: VariantStats) => { events: number; trials: number } | undefined;

const failureTally: Tally = (s) => ({ events: s.failures, trials: s.requests });

/** An absolute ceiling on the canary's event share (judged against the world, conditions.ts). */
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
): Condition {
  return {
    type: "comparison",
    label,
    theta0: 1,
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

/** Key of a quantile in Baselines.stableLatencyUs. */
export function quantileKey(q: number): string {
  return String(q);
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
        ? tailComparison(label, v, t0, c.maxRatio, latency)
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
    case "metricRate":
      return metricRateConditions(c, v);
    case "metricShare":
      return metricShareConditions(c, v);
  }
}

/** Whether a check needs stable's traffic (and so a minimum sample of it before passing). */
export function comparesWithStable(c: Check): boolean {
  return (
    c.kind === "metricPerRequest" ||
    (c.kind !== "metricRate" && c.maxRatio !== undefined) ||
    (c.kind === "failureRate" && c.maxIncrease !== undefined)
  );
}
