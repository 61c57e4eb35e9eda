/**
 * Telemetry windows -> the per-second view the dashboard draws and the summaries /metrics exposes.
 * Pure functions; quantiles come from merged sketches, never from averaging per-window quantiles.
 */
import { emptySketch, mergeInto, quantile, type Sketch } from "../telemetry/sketch.js";
import type { VariantStats, WindowPoint } from "../telemetry/types.js";
import type { SeriesPoint, VariantPoint } from "./types.js";

/** Telemetry windows are 1 s long. */
export const WINDOW_MS = 1000;

/** Outcomes of one variant over a span of windows. */
export interface VariantSummary {
  requests: number;
  failures: number;
  /** Requests per second over the span. */
  rps: number;
  /** failures / requests; null without requests. */
  failureRate: number | null;
  /** Latency quantile (e.g. 0.5, 0.99) -> ms; null without requests. */
  latencyMs: Map<number, number | null>;
  /** Custom metric name -> mean per request. */
  metricMeans: Map<string, number>;
}

/** Quantiles reported per variant. */
export const QUANTILES = [0.5, 0.9, 0.99] as const;

/** Sketch quantile of microseconds, in ms; null for an empty sketch. */
function quantileMs(latencyUs: Sketch, q: number): number | null {
  const v = quantile(latencyUs, q);
  return Number.isNaN(v) ? null : v / 1000;
}

function metricMeans(metrics: Map<string, { sum: number }>, requests: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (requests === 0) return out;
  for (const [name, m] of metrics) out[name] = m.sum / requests;
  return out;
}

function variantPoint(s: VariantStats, durationMs: number): VariantPoint {
  return {
    requests: s.requests,
    failures: s.failures,
    rps: (s.requests * 1000) / durationMs,
    failureRate: s.requests === 0 ? null : s.failures / s.requests,
    p50Ms: quantileMs(s.latencyUs, 0.5),
    p99Ms: quantileMs(s.latencyUs, 0.99),
    metrics: metricMeans(s.metrics, s.requests),
  };
}

/** One telemetry window as a SeriesPoint. */
export function seriesPoint(w: WindowPoint, durationMs = WINDOW_MS): SeriesPoint {
  const variants: Record<string, VariantPoint> = {};
  for (const [name, s] of w.variants) variants[name] = variantPoint(s, durationMs);
  return { t: w.startMs, durationMs, variants };
}

interface Accumulator {
  requests: number;
  failures: number;
  latencyUs: Sketch;
  metricSums: Map<string, number>;
}

/**
 * Per-variant summary of the windows, as rates over `spanMs` (the span the windows were taken
 * from: an idle second is a second with zero requests, not a missing one).
 */
export function summarize(windows: WindowPoint[], spanMs: number): Map<string, VariantSummary> {
  const acc = new Map<string, Accumulator>();
  for (const w of windows) {
    for (const [name, s] of w.variants) {
      let a = acc.get(name);
      if (!a) {
        a = { requests: 0, failures: 0, latencyUs: emptySketch(), metricSums: new Map() };
        acc.set(name, a);
      }
      a.requests += s.requests;
      a.failures += s.failures;
      mergeInto(a.latencyUs, s.latencyUs);
      for (const [m, ms] of s.metrics) a.metricSums.set(m, (a.metricSums.get(m) ?? 0) + ms.sum);
    }
  }
  const out = new Map<string, VariantSummary>();
  for (const [name, a] of acc) {
    const latencyMs = new Map<number, number | null>();
    for (const q of QUANTILES) latencyMs.set(q, quantileMs(a.latencyUs, q));
    const means = new Map<string, number>();
    if (a.requests > 0) for (const [m, sum] of a.metricSums) means.set(m, sum / a.requests);
    out.set(name, {
      requests: a.requests,
      failures: a.failures,
      rps: spanMs > 0 ? (a.requests * 1000) / spanMs : 0,
      failureRate: a.requests === 0 ? null : a.failures / a.requests,
      latencyMs,
      metricMeans: means,
    });
  }
  return out;
}
