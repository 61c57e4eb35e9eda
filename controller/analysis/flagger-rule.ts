/**
 * A Flagger-style rule, for contrast in benchmarks (not used to decide rollouts). Flagger runs its
 * metric checks every `interval`, each over the last interval of data (its request-success-rate
 * query over `1m`); a value past the threshold — or a query with no data ("no values found") —
 * is a failed check, and when the failed-check count reaches `analysis.threshold` it rolls back.
 * The count is not reset by a passing check; only a new analysis starts it at zero.
 */

import type { WindowPoint } from "../telemetry/types.js";

/** Rule parameters, named after Flagger's. */
export interface FlaggerRuleConfig {
  /** Check period and query range (Flagger `interval`, default 60 s). */
  intervalMs: number;
  /** Maximum canary error rate, 0..1 (Flagger's request-success-rate min 99% → 0.01). */
  maxErrorRate: number;
  /** Failed checks before rollback (Flagger `analysis.threshold`). */
  threshold: number;
  /** A check with no canary requests fails, as Flagger's "no values found" does. */
  noDataFails: boolean;
}

export const FLAGGER_DEFAULTS: FlaggerRuleConfig = {
  intervalMs: 60_000,
  maxErrorRate: 0.01,
  threshold: 5,
  noDataFails: true,
};

/** Carried between checks. */
export interface FlaggerState {
  failedChecks: number;
  rolledBack: boolean;
}

/** One periodic check's outcome. */
export interface FlaggerCheck {
  /** Canary error rate over the interval; NaN with no requests. */
  errorRate: number;
  failed: boolean;
  state: FlaggerState;
}

/** One check at `nowMs` over the windows with startMs in [nowMs − intervalMs, nowMs). */
export function flaggerCheck(
  windows: readonly WindowPoint[],
  canaryVariant: string,
  nowMs: number,
  config: FlaggerRuleConfig,
  state: FlaggerState = { failedChecks: 0, rolledBack: false },
): FlaggerCheck {
  let requests = 0;
  let failures = 0;
  for (const w of windows) {
    if (w.startMs < nowMs - config.intervalMs || w.startMs >= nowMs) continue;
    const s = w.variants.get(canaryVariant);
    requests += s?.requests ?? 0;
    failures += s?.failures ?? 0;
  }
  const errorRate = requests > 0 ? failures / requests : Number.NaN;
  const failed = Number.isNaN(errorRate) ? config.noDataFails : errorRate > config.maxErrorRate;
  const failedChecks = state.failedChecks + (failed ? 1 : 0);
  return {
    errorRate,
    failed,
    state: { failedChecks, rolledBack: state.rolledBack || failedChecks >= config.threshold },
  };
}

/**
 * Runs the rule over a whole series, checking at every interval boundary after `fromMs`;
 * returns when it rolled back (the check time) or null if it never did.
 */
export function flaggerRollbackTime(
  windows: readonly WindowPoint[],
  canaryVariant: string,
  fromMs: number,
  toMs: number,
  config: FlaggerRuleConfig = FLAGGER_DEFAULTS,
): number | null {
  let state: FlaggerState = { failedChecks: 0, rolledBack: false };
  for (let now = fromMs + config.intervalMs; now <= toMs; now += config.intervalMs) {
    state = flaggerCheck(windows, canaryVariant, now, config, state).state;
    if (state.rolledBack) return now;
  }
  return null;
}
