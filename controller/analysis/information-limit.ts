/**
 * How fast any test could detect a failure-rate regression at a given false-alarm rate: the
 * information limit of docs/statistics.md "How fast can a rollback be?".
 *
 * Failures of each variant arrive as Poisson streams. For any sequential test that rejects
 * "canary rate ≤ θ0 × stable rate" with probability at most α when it is true, the expected time
 * to reject under an alternative is at least ln(1/α) / I, where I is the Kullback–Leibler
 * information per second between the alternative and the nearest point of the null (Wald's
 * inequality; Lai 1998, "Information bounds and quick detection of parameter changes in stochastic
 * systems"). That bound assumes independent requests and a known alternative; nothing valid is
 * faster. A block test, which takes each block as one bounded observation, is bounded per block
 * instead: ln(1 + λ·(r − Q)/Q) nats at most, however many events the block holds.
 * Pure: no clock, no I/O.
 */

/** A regression scenario: traffic and failure probabilities per variant. */
export interface RegressionScenario {
  /** Canary and stable requests per second. */
  canaryRps: number;
  stableRps: number;
  /** Per-request failure probability of the canary (with the fault) and of stable. */
  canaryFailure: number;
  stableFailure: number;
  /** The null's bound on the canary's rate ratio (1 = "no worse than stable"). */
  theta0: number;
}

function poissonKl(rate: number, nullRate: number): number {
  if (rate <= 0) return nullRate;
  return rate * Math.log(rate / nullRate) - rate + nullRate;
}

/**
 * Information per second (nats) between the scenario and the nearest null point. The nearest point
 * keeps both variants' per-request rates in the null's ratio θ0 at the common level that minimises
 * the divergence (closed form: x = total failures / (canary rps·θ0 + stable rps)). 0 when the
 * scenario already lies in the null.
 */
export function informationPerSecond(s: RegressionScenario): number {
  const lc = s.canaryRps * s.canaryFailure;
  const ls = s.stableRps * s.stableFailure;
  if (!(s.canaryFailure > s.theta0 * s.stableFailure)) return 0;
  const x = (lc + ls) / (s.canaryRps * s.theta0 + s.stableRps);
  return poissonKl(lc, s.canaryRps * s.theta0 * x) + poissonKl(ls, s.stableRps * x);
}

/** Lower bound on the expected seconds of data any test needs to reject at level `alpha`. */
export function fastestSeconds(s: RegressionScenario, alpha: number): number {
  const info = informationPerSecond(s);
  return info > 0 ? Math.log(1 / alpha) / info : Number.POSITIVE_INFINITY;
}

/** How a block test is set up. */
export interface BlockTestShape {
  blockSeconds: number;
  /** Its boldest bet (λ ≤ 1) and that bet's prior weight in the mixture. */
  boldestBet: number;
  boldestWeight: number;
  /** Prior weight of the wealth judging the onset (½ at a step's start). */
  startWeight: number;
}

/**
 * Fewest blocks (and seconds) a block test needs for the scenario when every block shows exactly
 * the expected canary share of failures r against the null share Q: it must gain
 * ln(1/(α·startWeight·boldestWeight)) nats at ln(1 + λ(r − Q)/Q) per block. Noise slows it on
 * average (ln is concave), and a block test is a test: it needs at least fastestSeconds too, which
 * binds when blocks hold few events.
 */
export function blockTestSeconds(
  s: RegressionScenario,
  alpha: number,
  shape: BlockTestShape,
): { blocks: number; seconds: number } {
  const lc = s.canaryRps * s.canaryFailure;
  const ls = s.stableRps * s.stableFailure;
  const share = s.canaryRps / (s.canaryRps + s.stableRps);
  const q = (s.theta0 * share) / (s.theta0 * share + 1 - share);
  const r = lc / (lc + ls);
  const perBlock = Math.log1p((shape.boldestBet * (r - q)) / q);
  if (!(perBlock > 0)) return { blocks: Number.POSITIVE_INFINITY, seconds: Number.POSITIVE_INFINITY };
  const needed = Math.log(1 / (alpha * shape.startWeight * shape.boldestWeight));
  const blocks = Math.ceil(needed / perBlock);
  return { blocks, seconds: blocks * shape.blockSeconds };
}
