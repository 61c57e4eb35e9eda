/**
 * Numeric helpers for the analysis: log-gamma, log-beta, log-sum-exp and a bisection root finder.
 * Everything works in log space because likelihoods of millions of requests underflow doubles.
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln B(a, b). */
export function lbeta(a: number, b: number): number {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/** ln Σ exp(xs[i]) + ln w[i], without overflow; -Infinity for an empty sum. */
export function logWeightedSumExp(xs: readonly number[], weights: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) if (weights[i] > 0 && xs[i] > max) max = xs[i];
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (let i = 0; i < xs.length; i++) if (weights[i] > 0) sum += weights[i] * Math.exp(xs[i] - max);
  return max + Math.log(sum);
}

/** x·ln(y) with the convention 0·ln(0) = 0 (a likelihood term with no events). */
export function xlogy(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(y);
}

/**
 * The point in [lo, hi] where `inside` switches value, assuming it is monotone on the interval
 * (true at one end, false at the other). Returns the first point known to be outside after
 * `iterations` halvings, so a confidence interval end found this way is never too tight.
 */
export function bisect(lo: number, hi: number, inside: (x: number) => boolean, iterations = 100): number {
  const insideAtLo = inside(lo);
  let a = lo;
  let b = hi;
  for (let i = 0; i < iterations && a !== b; i++) {
    const mid = (a + b) / 2;
    if (mid === a || mid === b) break;
    if (inside(mid) === insideAtLo) a = mid;
    else b = mid;
  }
  return insideAtLo ? b : a;
}
