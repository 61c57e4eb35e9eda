/**
 * Anytime-valid confidence sequences for absolute SLO checks (statistics.md "Absolute SLO checks").
 *
 * Proportion (failure rate, share of slow requests): the beta-binomial mixture martingale
 *   M_t(p) = B(a + x, b + n − x) / B(a, b) / (p^x (1 − p)^(n − x));
 * {p : M_t(p) < 1/α} covers the true p at every t at once with probability ≥ 1 − α.
 *
 * Rate (events per unit time, e.g. guardrail blocks per minute): the gamma-Poisson analogue
 *   M_t(λ) = b^a Γ(a + k) / (Γ(a) (b + τ)^(a + k)) / (λ^k e^(−λτ))
 * for k events in exposure τ. It assumes Poisson arrivals; bursty (over-dispersed) events make it
 * optimistic, so treat rate checks as approximate.
 *
 * Both sets are intervals around the point estimate (the log likelihood is concave); their ends are
 * found by bisection in log space. Zero data gives the whole range: never a pass, never a fail.
 */

import { bisect, lbeta, lgamma, xlogy } from "./math.js";

/** A closed interval of plausible values. */
export interface Interval {
  lower: number;
  upper: number;
}

/** Beta(a, b) mixing prior for a proportion. */
export interface BetaPrior {
  a: number;
  b: number;
}

/** Gamma(shape a, rate b) mixing prior for a rate (b in the exposure's unit). */
export interface GammaPrior {
  a: number;
  b: number;
}

/** Outcome of an absolute check against an SLO. */
export interface SloJudgement {
  verdict: "pass" | "fail" | "inconclusive";
  interval: Interval;
  /** e-value against "the true value equals the SLO"; ≥ 1/α exactly when the SLO is outside the interval. */
  eValue: number;
}

/** Jeffreys prior: good power for small rates (1000 clean requests rule out 1% at α = 0.01). */
export const JEFFREYS: BetaPrior = { a: 0.5, b: 0.5 };

/** ln M_t(p) for x events in n trials. */
export function proportionLogE(x: number, n: number, p: number, prior: BetaPrior = JEFFREYS): number {
  return lbeta(prior.a + x, prior.b + n - x) - lbeta(prior.a, prior.b) - xlogy(x, p) - xlogy(n - x, 1 - p);
}

/** The (1 − α) confidence sequence for a proportion after x events in n trials. */
export function proportionInterval(
  x: number,
  n: number,
  alpha: number,
  prior: BetaPrior = JEFFREYS,
): Interval {
  if (n <= 0) return { lower: 0, upper: 1 };
  const limit = -Math.log(alpha);
  const inside = (p: number) => proportionLogE(x, n, p, prior) < limit;
  const estimate = x / n;
  return {
    lower: x <= 0 ? 0 : bisect(0, estimate, inside),
    upper: x >= n ? 1 : bisect(estimate, 1, inside),
  };
}

/** ln M_t(λ) for k events in exposure τ. */
export function rateLogE(k: number, exposure: number, lambda: number, prior: GammaPrior): number {
  return (
    lgamma(prior.a + k) -
    lgamma(prior.a) +
    prior.a * Math.log(prior.b) -
    (prior.a + k) * Math.log(prior.b + exposure) -
    xlogy(k, lambda) +
    lambda * exposure
  );
}

/** The (1 − α) confidence sequence for a Poisson rate after k events in exposure τ. */
export function rateInterval(k: number, exposure: number, alpha: number, prior: GammaPrior): Interval {
  if (exposure <= 0) return { lower: 0, upper: Number.POSITIVE_INFINITY };
  const limit = -Math.log(alpha);
  const inside = (lambda: number) => rateLogE(k, exposure, lambda, prior) < limit;
  const estimate = k / exposure;
  let hi = Math.max(2 * estimate, 1 / exposure);
  while (inside(hi)) hi *= 2;
  return { lower: k <= 0 ? 0 : bisect(0, estimate, inside), upper: bisect(estimate, hi, inside) };
}

/** Fail when the whole interval is above the SLO, pass when it is wholly below, else inconclusive. */
export function judgeInterval(interval: Interval, slo: number, logE: number): SloJudgement {
  const verdict = interval.lower > slo ? "fail" : interval.upper < slo ? "pass" : "inconclusive";
  return { verdict, interval, eValue: Math.exp(logE) };
}

/** Absolute check of a proportion (x of n) against a maximum `slo`. */
export function judgeProportion(
  x: number,
  n: number,
  slo: number,
  alpha: number,
  prior = JEFFREYS,
): SloJudgement {
  return judgeInterval(proportionInterval(x, n, alpha, prior), slo, proportionLogE(x, n, slo, prior));
}

/** Absolute check of a rate (k events in exposure) against a maximum `slo`, with the prior centred on it. */
export function judgeRate(k: number, exposure: number, slo: number, alpha: number): SloJudgement {
  const prior: GammaPrior = { a: 1, b: 1 / slo };
  return judgeInterval(rateInterval(k, exposure, alpha, prior), slo, rateLogE(k, exposure, slo, prior));
}
