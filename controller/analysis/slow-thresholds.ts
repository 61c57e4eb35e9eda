/**
 * The latency thresholds whose exceedances the filter tallies per user group, so that a latency
 * ratio check has a user-group test as the failure-rate comparison has (user-group-comparison.ts;
 * docs/statistics.md "User groups as the unit"). With sticky assignment a few slow users on the
 * canary make its tail heavier for the whole step; only counts per user group, taken at the very
 * thresholds the check judges, let the test rest on users rather than on requests.
 *
 * A latency check `maxRatio` r at quantile q with stable's pre-step q-quantile T0 judges the
 * canary's requests slower than r·T0 against stable's slower than T0 (check-conditions.ts), so the
 * filter is asked for exactly those two counts. Pure: the directive (app/directive.ts) and the
 * analysis both derive the thresholds from the same checks and baselines with this function.
 */

import type { Baselines, Check, Variants } from "./checks.js";
import { quantileKey } from "./checks.js";

/** One threshold for one variant: the filter counts, per user group, its requests slower than it. */
export interface SlowThreshold {
  /** Variant whose requests are counted (e.g. "stable", "canary"). */
  variant: string;
  /** Threshold in whole microseconds (> 0); a request counts when its latency is above it. */
  thresholdUs: number;
}

/** The filter's limit on thresholds per route (filter and ingest refuse more). */
export const MAX_SLOW_THRESHOLDS = 8;

/** A threshold as carried on the wire and used as the key of its counts: whole µs, at least 1. */
export function thresholdKeyUs(us: number): number {
  return Math.max(1, Math.round(us));
}

/**
 * The thresholds the latency ratio checks need at the current step (none before stable's baseline
 * is known), without duplicates, in check order, at most MAX_SLOW_THRESHOLDS.
 */
export function slowThresholds(
  checks: readonly Check[],
  v: Variants,
  baselines: Baselines | undefined,
): SlowThreshold[] {
  const out: SlowThreshold[] = [];
  const add = (variant: string, us: number) => {
    const thresholdUs = thresholdKeyUs(us);
    if (out.some((t) => t.variant === variant && t.thresholdUs === thresholdUs)) return;
    if (out.length < MAX_SLOW_THRESHOLDS) out.push({ variant, thresholdUs });
  };
  for (const c of checks) {
    if (c.kind !== "latency" || c.maxRatio === undefined) continue;
    const t0 = baselines?.stableLatencyUs?.[quantileKey(c.quantile)];
    if (t0 === undefined || !(t0 > 0) || !Number.isFinite(t0)) continue;
    add(v.stable, t0);
    add(v.canary, c.maxRatio * t0);
  }
  return out;
}
