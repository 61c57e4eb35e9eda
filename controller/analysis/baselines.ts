/**
 * Stable's figures from windows that ended before the current step began, for the thresholds of
 * ratio checks (a threshold must be fixed before the data it judges).
 */

import { emptySketch, mergeInto, quantile } from "../telemetry/sketch.js";
import type { WindowPoint } from "../telemetry/types.js";
import { type Baselines, type Check, metricQuantileKey, quantileKey } from "./checks.js";
import type { Sketch } from "../telemetry/sketch.js";

/**
 * Baselines for `checks` from `windows` (use only windows before the step): stable's failure rate,
 * the latency quantiles the checks name, and the mean of each metric they name. A figure with no
 * data behind it is left out, so the checks that need it report inconclusive and say why.
 */
export function measureBaselines(
  windows: readonly WindowPoint[],
  stableVariant: string,
  checks: readonly Check[],
): Baselines {
  let requests = 0;
  let failures = 0;
  const latency = emptySketch();
  const sums = new Map<string, { sum: number; count: number }>();
  const sketches = new Map<string, Sketch>();
  for (const w of windows) {
    const s = w.variants.get(stableVariant);
    if (!s) continue;
    requests += s.requests;
    failures += s.failures;
    mergeInto(latency, s.latencyUs);
    for (const [name, m] of s.metrics) {
      const acc = sums.get(name) ?? { sum: 0, count: 0 };
      sums.set(name, { sum: acc.sum + m.sum, count: acc.count + m.count });
      const sk = sketches.get(name) ?? emptySketch();
      mergeInto(sk, m.sketch);
      sketches.set(name, sk);
    }
  }
  const out: Baselines = {};
  if (requests > 0) out.stableFailureRate = failures / requests;
  for (const c of checks) {
    if (c.kind === "latency" && latency.count > 0) {
      out.stableLatencyUs = {
        ...out.stableLatencyUs,
        [quantileKey(c.quantile)]: quantile(latency, c.quantile),
      };
    }
    if (c.kind !== "metricPerRequest") continue;
    const m = sums.get(c.metric);
    const sk = sketches.get(c.metric);
    if (c.quantile === undefined && m && m.count > 0) {
      out.stableMetricMean = { ...out.stableMetricMean, [c.metric]: m.sum / m.count };
    } else if (c.quantile !== undefined && sk && sk.count > 0) {
      const key = metricQuantileKey(c.metric, c.quantile);
      out.stableMetricQuantile = { ...out.stableMetricQuantile, [key]: quantile(sk, c.quantile) };
    }
  }
  return out;
}

/** Whether `kept` lacks a figure one of the checks needs (so it must still be measured). */
export function missingBaselines(kept: Baselines | undefined, checks: readonly Check[]): boolean {
  if (!kept) return true;
  return checks.some((c) => {
    if (c.kind === "failureRate") return c.maxIncrease !== undefined && kept.stableFailureRate === undefined;
    if (c.kind === "latency")
      return c.maxRatio !== undefined && kept.stableLatencyUs?.[quantileKey(c.quantile)] === undefined;
    if (c.kind === "metricPerRequest" && c.quantile !== undefined)
      return kept.stableMetricQuantile?.[metricQuantileKey(c.metric, c.quantile)] === undefined;
    if (c.kind === "metricPerRequest") return kept.stableMetricMean?.[c.metric] === undefined;
    return false;
  });
}
