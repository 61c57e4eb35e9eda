/**
 * The comparison report of an A/B test or a shadow: per check, each variant's share of bad events
 * with its anytime-valid confidence sequence (the beta-binomial mixture of confidence.ts, the one
 * the absolute checks decide with), and the effect (B − A, percentage points) with an interval
 * that holds at every moment at once: each arm's sequence at α/2, combined by the union bound.
 * A check's bad event is the one its test counts: a failure; a request slower than maxMs (or than
 * stable's quantile over the test, for a ratio check); a metric above stable's mean; for a rate
 * check, events per minute (gamma-Poisson sequence). Like the absolute checks, the intervals treat
 * requests as independent; the verdict itself comes from the sequential tests (analyze.ts). Pure.
 */

import { emptySketch, mergeInto, quantile, countAbove, type Sketch } from "../telemetry/sketch.js";
import type { VariantStats, WindowPoint } from "../telemetry/types.js";
import type { Check, Variants } from "./checks.js";
import { type Interval, proportionInterval, rateInterval } from "./confidence.js";

/** One arm of one check. */
export interface ArmFigure {
  events: number;
  trials: number;
  /** events / trials (or per minute for a rate check); null without trials. */
  estimate: number | null;
  interval: Interval;
}

/** One check compared across the two variants. */
export interface CheckComparison {
  name: string;
  /** What is counted, e.g. "failure rate" or "share slower than 100 ms". */
  measure: string;
  unit: "share" | "per minute";
  a: ArmFigure;
  b: ArmFigure;
  /** b − a, with its simultaneous interval; null until both arms have trials. */
  effect: { estimate: number; interval: Interval } | null;
}

/** Per-variant outcomes over the test. */
export interface VariantOutcome {
  requests: number;
  failures: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface Comparison {
  /** Variant names: a is the reference (stable), b the candidate (canary or shadow). */
  variants: { a: string; b: string };
  alpha: number;
  outcomes: Record<string, VariantOutcome>;
  comparisons: CheckComparison[];
}

interface Arms {
  a: VariantStats[];
  b: VariantStats[];
}

export function compareVariants(
  windows: readonly WindowPoint[],
  v: Variants,
  checks: readonly Check[],
  alpha: number,
  spanMs: number,
): Comparison {
  const arms: Arms = { a: statsOf(windows, v.stable), b: statsOf(windows, v.canary) };
  const minutes = spanMs / 60_000;
  return {
    variants: { a: v.stable, b: v.canary },
    alpha,
    outcomes: { [v.stable]: outcome(arms.a), [v.canary]: outcome(arms.b) },
    comparisons: checks.map((c) => compareCheck(c, arms, alpha, minutes)),
  };
}

function statsOf(windows: readonly WindowPoint[], variant: string): VariantStats[] {
  return windows.flatMap((w) => {
    const s = w.variants.get(variant);
    return s ? [s] : [];
  });
}

function merged(stats: readonly VariantStats[], pick: (s: VariantStats) => Sketch | undefined): Sketch {
  const out = emptySketch();
  for (const s of stats) {
    const sketch = pick(s);
    if (sketch) mergeInto(out, sketch);
  }
  return out;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function outcome(stats: readonly VariantStats[]): VariantOutcome {
  const latency = merged(stats, (s) => s.latencyUs);
  const q = (p: number) => (latency.count > 0 ? finiteOrNull(quantile(latency, p) / 1000) : null);
  return {
    requests: stats.reduce((n, s) => n + s.requests, 0),
    failures: stats.reduce((n, s) => n + s.failures, 0),
    p50Ms: q(0.5),
    p99Ms: q(0.99),
  };
}

function proportionArm(events: number, trials: number, alpha: number): ArmFigure {
  return {
    events,
    trials,
    estimate: trials > 0 ? events / trials : null,
    interval: proportionInterval(events, trials, alpha / 2),
  };
}

function effectOf(a: ArmFigure, b: ArmFigure): CheckComparison["effect"] {
  if (a.estimate === null || b.estimate === null) return null;
  return {
    estimate: b.estimate - a.estimate,
    interval: { lower: b.interval.lower - a.interval.upper, upper: b.interval.upper - a.interval.lower },
  };
}

function shares(
  name: string,
  measure: string,
  arms: Arms,
  alpha: number,
  tally: (s: VariantStats) => { events: number; trials: number },
): CheckComparison {
  const sum = (stats: VariantStats[]) =>
    stats.map(tally).reduce((t, x) => ({ events: t.events + x.events, trials: t.trials + x.trials }), {
      events: 0,
      trials: 0,
    });
  const ta = sum(arms.a);
  const tb = sum(arms.b);
  const a = proportionArm(ta.events, ta.trials, alpha);
  const b = proportionArm(tb.events, tb.trials, alpha);
  return { name, measure, unit: "share", a, b, effect: effectOf(a, b) };
}

function compareCheck(c: Check, arms: Arms, alpha: number, minutes: number): CheckComparison {
  switch (c.kind) {
    case "failureRate":
      return shares(c.name, "failure rate", arms, alpha, (s) => ({ events: s.failures, trials: s.requests }));
    case "latency": {
      const stableMs =
        quantile(
          merged(arms.a, (s) => s.latencyUs),
          c.quantile,
        ) / 1000;
      const ms = c.maxMs ?? (Number.isFinite(stableMs) ? stableMs : 0);
      const what = c.maxMs !== undefined ? `${ms} ms` : `stable's p${100 * c.quantile} (${ms.toFixed(1)} ms)`;
      return shares(c.name, `share slower than ${what}`, arms, alpha, (s) => ({
        events: countAbove(s.latencyUs, ms * 1000),
        trials: s.latencyUs.count,
      }));
    }
    case "metricPerRequest":
    case "metricMean": {
      const all = arms.a.flatMap((s) => s.metrics.get(c.metric) ?? []);
      const count = all.reduce((n, m) => n + m.count, 0);
      const mean = count > 0 ? all.reduce((n, m) => n + m.sum, 0) / count : 0;
      return shares(
        c.name,
        `share with ${c.metric} above stable's mean (${mean.toFixed(1)})`,
        arms,
        alpha,
        (s) => {
          const m = s.metrics.get(c.metric);
          return { events: m ? countAbove(m.sketch, mean) : 0, trials: m?.count ?? 0 };
        },
      );
    }
    case "metricShare":
      return shares(c.name, `share of responses with ${c.metric}`, arms, alpha, (s) => {
        const m = s.metrics.get(c.metric);
        return { events: m?.sum ?? 0, trials: m?.count ?? 0 };
      });
    case "metricRate": {
      const arm = (stats: VariantStats[]): ArmFigure => {
        const k = stats.reduce((n, s) => n + (s.metrics.get(c.metric)?.sum ?? 0), 0);
        const prior = { a: 1, b: 1 / c.maxPerMinute };
        return {
          events: k,
          trials: minutes,
          estimate: minutes > 0 ? k / minutes : null,
          interval: rateInterval(k, minutes, alpha / 2, prior),
        };
      };
      const a = arm(arms.a);
      const b = arm(arms.b);
      return {
        name: c.name,
        measure: `${c.metric} per minute`,
        unit: "per minute",
        a,
        b,
        effect: effectOf(a, b),
      };
    }
  }
}
