/**
 * Point estimates for display (quantiles and means from the windows' sketches). They explain a
 * verdict to a person; the verdict itself comes from the sequential tests, never from these.
 */

import { emptySketch, mergeInto, quantile, type Sketch } from "../telemetry/sketch.js";
import type { VariantStats, WindowPoint } from "../telemetry/types.js";
import type { Check, Variants } from "./checks.js";

/** A displayed figure and the threshold it is compared with. */
export interface Estimate {
  value?: number;
  threshold?: number;
}

function mergedSketch(
  windows: readonly WindowPoint[],
  variant: string,
  pick: (s: VariantStats) => Sketch | undefined,
) {
  // In place: evaluated every tick over the whole step, so no copy of the accumulator per window.
  const out = emptySketch();
  for (const w of windows) {
    const s = w.variants.get(variant);
    const sketch = s && pick(s);
    if (sketch) mergeInto(out, sketch);
  }
  return out;
}

function finite(x: number): number | undefined {
  return Number.isFinite(x) ? x : undefined;
}

function latencyEstimate(
  q: number,
  maxMs: number | undefined,
  maxRatio: number | undefined,
  w: readonly WindowPoint[],
  v: Variants,
) {
  const canaryMs =
    quantile(
      mergedSketch(w, v.canary, (s) => s.latencyUs),
      q,
    ) / 1000;
  if (maxMs !== undefined || maxRatio === undefined) return { value: finite(canaryMs), threshold: maxMs };
  const stableMs =
    quantile(
      mergedSketch(w, v.stable, (s) => s.latencyUs),
      q,
    ) / 1000;
  return { value: finite(canaryMs / stableMs), threshold: maxRatio };
}

function meanOf(windows: readonly WindowPoint[], variant: string, metric: string): number {
  let sum = 0;
  let count = 0;
  for (const w of windows) {
    const m = w.variants.get(variant)?.metrics.get(metric);
    if (m) {
      sum += m.sum;
      count += m.count;
    }
  }
  return sum / count;
}

/**
 * The figure shown for a check, where a sketch gives a more readable one than the test's own
 * statistic (a latency quantile in ms rather than a share of slow requests); empty otherwise.
 */
export function displayEstimate(c: Check, windows: readonly WindowPoint[], v: Variants): Estimate {
  switch (c.kind) {
    case "latency":
      return latencyEstimate(c.quantile, c.maxMs, c.maxRatio, windows, v);
    case "metricPerRequest": {
      const q = c.quantile;
      const figure = (variant: string) =>
        q === undefined
          ? meanOf(windows, variant, c.metric)
          : quantile(
              mergedSketch(windows, variant, (s) => s.metrics.get(c.metric)?.sketch),
              q,
            );
      return { value: finite(figure(v.canary) / figure(v.stable)), threshold: c.maxRatio };
    }
    case "metricMean":
      return {
        value: finite(meanOf(windows, v.canary, c.metric) / meanOf(windows, v.stable, c.metric)),
        threshold: c.maxRatio,
      };
    case "metricShare": {
      const shareOf = (variant: string) => meanOf(windows, variant, c.metric);
      return c.max !== undefined
        ? { value: finite(shareOf(v.canary)), threshold: c.max }
        : { value: finite(shareOf(v.canary) / shareOf(v.stable)), threshold: c.maxRatio };
    }
    default:
      return {};
  }
}
