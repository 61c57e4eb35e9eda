/**
 * The Flagger-style rule replayed on the data a sandbox rollout produced: the per-second windows the
 * controller saw, continued past what the sandbox ran (the real rollback stops the faulty canary
 * long before a 60 s rule has data) by drawing recorded windows of the same period at random, i.e.
 * the same rates. Its rollback time is taken over every phase of its check interval against the
 * onset. Pure.
 */
import { type FlaggerRuleConfig, flaggerRollbackTime } from "../controller/analysis/flagger-rule.js";
import { emptySketch, merge, quantile } from "../controller/telemetry/sketch.js";
import type { WindowPoint } from "../controller/telemetry/types.js";

const SECOND_MS = 1000;

/** What the sandbox recorded around the onset. */
export interface Recording {
  /** Windows the controller saw, any order; only those in [fromMs, toMs) are used as recorded. */
  windows: readonly WindowPoint[];
  /** First recorded second (the step's first complete window). */
  fromMs: number;
  /** End of the recorded seconds (exclusive): the last complete window before the decision. */
  toMs: number;
  /** When the fault started. */
  onsetMs: number;
}

/** The Flagger-style check replayed: error rate (flagger-rule.ts) or a latency quantile over the interval. */
export type FlaggerMetric =
  | { kind: "errorRate"; maxErrorRate: number }
  | { kind: "latency"; quantile: number; maxUs: number };

/**
 * Windows for every second of [fromMs, toMs): the recorded one where the recording has it,
 * otherwise a recorded window of the same side of the onset drawn with `rng` and moved to that
 * second; an error when a side has no complete recorded window to draw from.
 */
export function continueWindows(
  rec: Recording,
  fromMs: number,
  toMs: number,
  rng: () => number,
): WindowPoint[] | Error {
  const byStart = new Map<number, WindowPoint>();
  for (const w of rec.windows) if (w.startMs >= rec.fromMs && w.startMs < rec.toMs) byStart.set(w.startMs, w);
  const recorded = [...byStart.values()];
  // The window holding the onset mixes healthy and faulty seconds, so it belongs to neither pool.
  const before = recorded.filter((w) => w.startMs + SECOND_MS <= rec.onsetMs);
  const after = recorded.filter((w) => w.startMs >= rec.onsetMs);
  if (before.length === 0) return new Error("recording: no complete window before the onset");
  if (after.length === 0) return new Error("recording: no complete window after the onset");
  const out: WindowPoint[] = [];
  for (let t = Math.floor(fromMs / SECOND_MS) * SECOND_MS; t < toMs; t += SECOND_MS) {
    const own = byStart.get(t);
    if (own) {
      out.push(own);
      continue;
    }
    const pool = t < rec.onsetMs ? before : after;
    const drawn = pool[Math.floor(rng() * pool.length)]!;
    out.push({ startMs: t, variants: drawn.variants });
  }
  return out;
}

/**
 * When a Flagger-style latency check (the quantile of the canary's requests over the last interval
 * above maxUs, or no requests, fails) reaches `threshold` failed checks, checking at every interval
 * boundary after `fromMs`; null if it never does by `toMs`.
 */
export function flaggerLatencyRollbackTime(
  windows: readonly WindowPoint[],
  canaryVariant: string,
  metric: { quantile: number; maxUs: number },
  fromMs: number,
  toMs: number,
  rule: { intervalMs: number; threshold: number },
): number | null {
  let failedChecks = 0;
  for (let now = fromMs + rule.intervalMs; now <= toMs; now += rule.intervalMs) {
    let latency = emptySketch();
    for (const w of windows) {
      if (w.startMs < now - rule.intervalMs || w.startMs >= now) continue;
      const s = w.variants.get(canaryVariant);
      if (s) latency = merge(latency, s.latencyUs);
    }
    if (latency.count === 0 || quantile(latency, metric.quantile) > metric.maxUs) failedChecks++;
    if (failedChecks >= rule.threshold) return now;
  }
  return null;
}

/**
 * Seconds from the onset to the rule's rollback with its check clock started `phaseS` seconds
 * before the onset (failed checks count from there, as a new Flagger analysis would), or null
 * when it does not roll back within `horizonS` seconds.
 */
export function flaggerSecondsAtPhase(
  windows: readonly WindowPoint[],
  canaryVariant: string,
  onsetMs: number,
  phaseS: number,
  horizonS: number,
  metric: FlaggerMetric,
  rule: { intervalMs: number; threshold: number },
): number | null {
  const fromMs = onsetMs - phaseS * SECOND_MS;
  const toMs = onsetMs + horizonS * SECOND_MS;
  const at =
    metric.kind === "errorRate"
      ? flaggerRollbackTime(windows, canaryVariant, fromMs, toMs, {
          ...rule,
          maxErrorRate: metric.maxErrorRate,
          noDataFails: true,
        } satisfies FlaggerRuleConfig)
      : flaggerLatencyRollbackTime(windows, canaryVariant, metric, fromMs, toMs, rule);
  return at === null ? null : (at - onsetMs) / SECOND_MS;
}

/** Median over every whole-second phase of the interval; a phase that never rolls back counts as the horizon. */
export function flaggerMedianSeconds(
  rec: Recording,
  canaryVariant: string,
  metric: FlaggerMetric,
  rule: { intervalMs: number; threshold: number },
  horizonS: number,
  rng: () => number,
): number | Error {
  const windows = continueWindows(
    rec,
    rec.onsetMs - rule.intervalMs,
    rec.onsetMs + horizonS * SECOND_MS,
    rng,
  );
  if (windows instanceof Error) return windows;
  const phases = rule.intervalMs / SECOND_MS;
  const times: number[] = [];
  for (let p = 0; p < phases; p++) {
    const s = flaggerSecondsAtPhase(windows, canaryVariant, rec.onsetMs, p, horizonS, metric, rule);
    times.push(s ?? horizonS);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}
