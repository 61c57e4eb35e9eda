/**
 * Check kinds (DESIGN §5 "Analysis"): their configuration and the stable figures their thresholds
 * come from. How each kind is judged: check-conditions.ts; validation: check-validation.ts.
 */

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

/** A custom metric's mean per request against maxRatio × stable's, on concurrent traffic. */
export interface MetricMeanCheck extends CheckCommon {
  kind: "metricMean";
  /** Metric name as reported by the filter. */
  metric: string;
  /** Maximum ratio canary mean / stable mean per request. */
  maxRatio: number;
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
  | MetricMeanCheck
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

/** Which variants a check compares. */
export interface Variants {
  canary: string;
  stable: string;
}

/** Key of a quantile in Baselines.stableLatencyUs. */
export function quantileKey(q: number): string {
  return String(q);
}

/** Whether a check needs stable's traffic (and so a minimum sample of it before passing). */
export function comparesWithStable(c: Check): boolean {
  return (
    c.kind === "metricPerRequest" ||
    c.kind === "metricMean" ||
    (c.kind !== "metricRate" && c.maxRatio !== undefined) ||
    (c.kind === "failureRate" && c.maxIncrease !== undefined)
  );
}
