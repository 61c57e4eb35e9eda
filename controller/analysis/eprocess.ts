/**
 * The count e-process (statistics.md "Failures"; Lindon & Malek, NeurIPS 2022): is the canary's
 * per-request rate of bad events more than θ0 times the stable's?
 *
 * Given that a bad event happened in a window where the canary had share s of the requests, it is
 * the canary's with probability q(θ) = θs / (θs + 1 − s), whatever the base rate. Per window with
 * x canary events out of f:
 *   log LR(θ) += x·ln(θ/θ0) − f·ln((θs + 1 − s) / (θ0·s + 1 − s))
 * and the e-value is the prior-weighted mixture Σ π_k·exp(log LR(θ_k)) over a grid of alternatives.
 * By Ville's inequality P(e ≥ 1/α ever) ≤ α under the null, however often it is looked at and
 * however the traffic split changes between windows.
 *
 * Grid above θ0 ("fail" test): null θ ≤ θ0. Grid below θ0 (the mirror "pass" test): null θ ≥ θ0.
 * In both cases the likelihood ratio against the boundary θ0 is least favourable, so the composite
 * null is covered. With per-request (binomial) failures, x given f is hypergeometric rather than
 * binomial; it is smaller in convex order (Hoeffding 1963), so at θ0 = 1 the mixture is still a
 * supermartingale.
 *
 * State is plain JSON and updates in O(grid) per window, independent of history.
 */

import { logWeightedSumExp } from "./math.js";

/** Parameters of one count test. */
export interface CountTestConfig {
  /** Null boundary: the rate ratio canary/stable under test. */
  theta0: number;
  /** Alternatives, all above θ0 (fail test) or all below it (pass test). */
  grid: number[];
  /** Prior weight per grid point; non-negative, summing to 1. */
  weights: number[];
}

/** Incremental state of a count test (serialisable). */
export interface CountTestState extends CountTestConfig {
  /** Cumulative log likelihood ratio per grid point against θ0. */
  logLR: number[];
  /** Canary bad events counted in informative windows. */
  canaryEvents: number;
  /** All bad events counted in informative windows. */
  totalEvents: number;
}

/** One window's counts for a count test. */
export interface CountWindow {
  canaryRequests: number;
  stableRequests: number;
  canaryEvents: number;
  stableEvents: number;
}

/** Multipliers of θ0 for the fail test's alternatives (statistics.md's grid for θ0 = 1). */
export const FAIL_MULTIPLIERS = [1.1, 1.25, 1.5, 2, 3, 5, 10, 20];
/** Multipliers of θ1 for the pass test's alternatives (0.5, 0.8, 1.0, 1.2 for θ1 = 1.5). */
export const PASS_MULTIPLIERS = [1 / 3, 0.8 / 1.5, 1 / 1.5, 0.8];

function uniform(n: number): number[] {
  return new Array<number>(n).fill(1 / n);
}

/** Fail test: null "canary rate ≤ θ0 × stable rate"; rejecting it is evidence the canary is worse. */
export function failTestConfig(theta0: number): CountTestConfig {
  return { theta0, grid: FAIL_MULTIPLIERS.map((m) => m * theta0), weights: uniform(FAIL_MULTIPLIERS.length) };
}

/** Pass test: null "canary rate ≥ θ1 × stable rate"; rejecting it is evidence the canary is fine. */
export function passTestConfig(theta1: number): CountTestConfig {
  return {
    theta0: theta1,
    grid: PASS_MULTIPLIERS.map((m) => m * theta1),
    weights: uniform(PASS_MULTIPLIERS.length),
  };
}

/** Checks a configuration; the error names the field and the value. */
export function validateCountTest(config: CountTestConfig): Error | undefined {
  const { theta0, grid, weights } = config;
  if (!(Number.isFinite(theta0) && theta0 > 0))
    return new Error(`theta0: must be a positive number, got ${theta0}`);
  if (grid.length === 0) return new Error("grid: must not be empty");
  if (weights.length !== grid.length) {
    return new Error(`weights: need one per grid point (${grid.length}), got ${weights.length}`);
  }
  const above = grid[0] > theta0;
  for (let i = 0; i < grid.length; i++) {
    const t = grid[i];
    if (!(Number.isFinite(t) && t > 0) || t === theta0 || t > theta0 !== above) {
      return new Error(
        `grid[${i}]: must be positive and on the same side of theta0 ${theta0} as grid[0], got ${t}`,
      );
    }
    if (!(weights[i] >= 0)) return new Error(`weights[${i}]: must be non-negative, got ${weights[i]}`);
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-9) return new Error(`weights: must sum to 1, got ${sum}`);
  return undefined;
}

/** A fresh test (e-value 1), or an error value for a bad configuration. */
export function createCountTest(config: CountTestConfig): CountTestState | Error {
  const bad = validateCountTest(config);
  if (bad) return bad;
  return {
    theta0: config.theta0,
    grid: [...config.grid],
    weights: [...config.weights],
    logLR: new Array<number>(config.grid.length).fill(0),
    canaryEvents: 0,
    totalEvents: 0,
  };
}

/** The state after one more window. Windows with no events or an empty arm carry no evidence. */
export function update(state: CountTestState, w: CountWindow): CountTestState {
  const f = w.canaryEvents + w.stableEvents;
  if (f <= 0 || w.canaryRequests <= 0 || w.stableRequests <= 0) return state;
  const s = w.canaryRequests / (w.canaryRequests + w.stableRequests);
  const nullDenominator = state.theta0 * s + 1 - s;
  const logLR = state.logLR.map(
    (l, k) =>
      l +
      w.canaryEvents * Math.log(state.grid[k] / state.theta0) -
      f * Math.log((state.grid[k] * s + 1 - s) / nullDenominator),
  );
  return {
    ...state,
    logLR,
    canaryEvents: state.canaryEvents + w.canaryEvents,
    totalEvents: state.totalEvents + f,
  };
}

/** ln of the mixture e-value. */
export function logEValue(state: CountTestState): number {
  return logWeightedSumExp(state.logLR, state.weights);
}

/** The mixture e-value: reject the null when it reaches 1/α. */
export function eValue(state: CountTestState): number {
  return Math.exp(logEValue(state));
}
