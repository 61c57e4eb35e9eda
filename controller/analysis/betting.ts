/**
 * A bounded-increment betting e-detector over time blocks (docs/statistics.md).
 *
 * The unit is a block of consecutive windows, not a request: within a block we take one bounded
 * number, the share r_b = num_b / den_b (the canary's share of the bad events, or the canary's
 * failure share of its requests), against the share Q_b the null allows (Q_b = Σ q_t·den_t / den_b).
 * Under the null E[r_b | past] ≤ Q_b, whatever happened inside the block: a retry storm, a burst on
 * one pod or a GC pause moves r_b once, by a bounded amount, instead of adding many "independent"
 * events. The increment is normalised so that it is ≥ −1:
 *   above (null "share ≤ Q"):  Z_b = (r_b − Q_b) / Q_b          ∈ [−1, (1 − Q_b)/Q_b]
 *   below (null "share ≥ Q"):  Z_b = (Q_b − r_b) / (1 − Q_b)    ∈ [−1, Q_b/(1 − Q_b)]
 * so for any bet λ ∈ [0, 1] chosen before the block, Π (1 + λ·Z_b) is a non-negative
 * supermartingale (Waudby-Smith & Ramdas 2024, betting). We mix over a grid of fixed bets and one
 * predictable plug-in bet whose size comes from the mean and variance of past blocks (aGRAPA), so
 * the variance is estimated from the data rather than assumed binomial.
 *
 * Late onsets: besides the wealth started at the step's first block, a new wealth starts every
 * `restartBlocks` blocks with prior weight π_j = ½ / (j (j + 1)) (j = 1, 2, …; ½ at the start). The
 * weighted sum of test supermartingales started at different times is itself one (Σ π ≤ 1), so
 * Ville's inequality still bounds P(ever ≥ 1/α) by α, while a change after 20 healthy minutes is
 * judged by a wealth that began shortly before it (Shin, Ramdas & Rinaldo, e-detectors). All
 * wealths of one bet share their factors, so each bet keeps a single running sum: O(bets) state.
 */

/** Whether the null bounds the share from above (fail tests) or from below (pass tests). */
export type Direction = "above" | "below";

/** Fixed bets of the mixture (the plug-in bet is added to these). */
export const BETS = [0.9, 1 / 2, 1 / 4, 1 / 10];
/** Largest plug-in bet. */
const MAX_PLUG_IN = 0.9;
/** Weight of a past block in the plug-in's running mean and variance, against the prior. */
const PLUG_IN_PRIOR_BLOCKS = 4;
const PLUG_IN_DECAY = 0.95;

/** The serialisable state of one test. */
export interface BetState {
  direction: Direction;
  blockMs: number;
  restartBlocks: number;
  /** Start of the open block (aligned to blockMs), or null before any data. */
  blockStartMs: number | null;
  /** Open block: Σ num, Σ den, Σ q·den. */
  num: number;
  den: number;
  nullMass: number;
  /** Blocks closed so far. */
  blocks: number;
  /** ln of each bet's summed wealth (fixed bets, then the plug-in), over the wealths started. */
  logWealth: number[];
  /** Prior mass of the wealths started so far; the rest still stands at its initial value 1. */
  started: number;
  /** Running (decayed) sums of past increments for the plug-in bet. */
  plugIn: { weight: number; sum: number; sumSquares: number };
}

/** One window's contribution. */
export interface BetWindow {
  startMs: number;
  num: number;
  den: number;
  /** The share the null allows in this window. */
  q: number;
}

/** A fresh test. */
export function createBet(direction: Direction, blockMs: number, restartBlocks: number): BetState {
  return {
    direction,
    blockMs,
    restartBlocks,
    blockStartMs: null,
    num: 0,
    den: 0,
    nullMass: 0,
    blocks: 0,
    logWealth: new Array<number>(BETS.length + 1).fill(Number.NEGATIVE_INFINITY),
    started: 0,
    plugIn: { weight: 0, sum: 0, sumSquares: 0 },
  };
}

/** Prior weight of the wealth starting at block `b` (0 except at restart points). */
export function startWeight(b: number, restartBlocks: number): number {
  if (b === 0) return 0.5;
  if (b % restartBlocks !== 0) return 0;
  const j = b / restartBlocks;
  return 0.5 / (j * (j + 1));
}

function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** The increment of a closed block, ≥ −1; undefined when the block carries no information. */
export function increment(
  direction: Direction,
  num: number,
  den: number,
  nullMass: number,
): number | undefined {
  if (!(den > 0)) return undefined;
  const q = nullMass / den;
  if (!(q > 0 && q < 1)) return undefined;
  const r = Math.min(1, Math.max(0, num / den));
  return direction === "above" ? (r - q) / q : (q - r) / (1 - q);
}

function plugInBet(p: BetState["plugIn"]): number {
  const w = p.weight + PLUG_IN_PRIOR_BLOCKS;
  const mean = p.sum / w;
  const variance = (p.sumSquares + PLUG_IN_PRIOR_BLOCKS) / w - mean * mean;
  const bet = mean / (Math.max(variance, 1e-6) + mean * mean);
  return Math.min(MAX_PLUG_IN, Math.max(0, bet));
}

function closeBlock(s: BetState): BetState {
  const z = increment(s.direction, s.num, s.den, s.nullMass);
  const open = { ...s, num: 0, den: 0, nullMass: 0 };
  if (z === undefined) return open;
  const pi = startWeight(s.blocks, s.restartBlocks);
  const bets = [...BETS, plugInBet(s.plugIn)];
  const logWealth = s.logWealth.map((lw, k) => {
    const started = pi > 0 ? logAddExp(lw, Math.log(pi)) : lw;
    return started + Math.log1p(bets[k] * z);
  });
  const d = PLUG_IN_DECAY;
  const plugIn = {
    weight: d * s.plugIn.weight + 1,
    sum: d * s.plugIn.sum + z,
    sumSquares: d * s.plugIn.sumSquares + z * z,
  };
  return { ...open, blocks: s.blocks + 1, logWealth, started: s.started + pi, plugIn };
}

/** The state after one more window (windows in time order). */
export function observeBet(s: BetState, w: BetWindow): BetState {
  const blockStart = w.startMs - (((w.startMs % s.blockMs) + s.blockMs) % s.blockMs);
  let next = s;
  if (next.blockStartMs !== null && blockStart > next.blockStartMs) next = closeBlock(next);
  next = {
    ...next,
    blockStartMs: blockStart,
    num: next.num + w.num,
    den: next.den + w.den,
    nullMass: next.nullMass + w.q * w.den,
  };
  return next;
}

/** Closes the open block when `nowMs` is past its end (its last window has been seen or missed). */
export function settleBet(s: BetState, nowMs: number): BetState {
  if (s.blockStartMs === null || nowMs < s.blockStartMs + s.blockMs) return s;
  return { ...closeBlock(s), blockStartMs: null };
}

/** The e-value: the bets' wealths averaged with equal weight, plus the prior mass not yet started. */
export function betEValue(s: BetState): number {
  let sum = 0;
  for (const lw of s.logWealth) sum += Math.exp(Math.min(lw, 700));
  return sum / s.logWealth.length + Math.max(0, 1 - s.started);
}
