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
 * The above increment is also capped at what a share with 10× the null's odds would pay
 * (MAX_ODDS_RATIO): capping from above only lowers its conditional mean, and a cluster that outlives
 * a block (a pod's burst over two blocks) can pay no more than a 10× effect per block.
 * So for any bet λ ∈ [0, 1] chosen before the block, Π (1 + λ·Z_b) is a non-negative
 * supermartingale (Waudby-Smith & Ramdas 2024, betting). We mix over a grid of fixed bets and one
 * predictable plug-in bet whose size comes from the mean and variance of past blocks (aGRAPA), so
 * the variance is estimated from the data rather than assumed binomial. The mixture's weights
 * (BET_WEIGHTS) are fixed in advance, so it is a test supermartingale for any of them.
 *
 * Late onsets: besides the wealth started at the step's first block, a new wealth starts every
 * `restartBlocks` blocks with prior weight π_j (startWeight: ½ at the start, the rest spread over
 * restarts, flat over the first 30 minutes and decaying after). The
 * weighted sum of test supermartingales started at different times is itself one (Σ π ≤ 1), so
 * Ville's inequality still bounds P(ever ≥ 1/α) by α, while a change after 20 healthy minutes is
 * judged by a wealth that began shortly before it (Shin, Ramdas & Rinaldo, e-detectors). All
 * wealths of one bet share their factors, so each bet keeps a single running sum: O(bets) state.
 *
 * Per event (blockMs 0, `blockDuration: 0s`): for traffic whose requests really are independent,
 * each event is its own block. A window's num of den events then pays
 * (1 + λ(1 − q)/q)^num · (1 − λ)^(den − num) (above; mirrored below): the same betting supermartingale
 * with one fixed bet per window, valid only if events are independent given the past, and as fast
 * as the information allows (information-limit.ts). Restarts come every RESTART_WINDOWS windows.
 */

/** Whether the null bounds the share from above (fail tests) or from below (pass tests). */
export type Direction = "above" | "below";

/** Fixed bets of the mixture (the plug-in bet is added to these). */
export const BETS = [0.95, 1 / 2, 1 / 5];
/**
 * Prior weight of each fixed bet's wealth, then the plug-in's (sums to 1). Most of it sits on the
 * boldest bet: a gross fault then pays ln(1/0.6) ≈ 0.5 nats for the mixture instead of ln 5 ≈ 1.6
 * (about one 10-s block sooner), while small effects keep the cautious bets and the plug-in.
 */
export const BET_WEIGHTS = [0.6, 0.13, 0.13, 0.14];
/**
 * Per event, a bold bet loses almost everything on each event against it: the bets sit near the
 * Kelly bet (r − q)/(1 − q) of the effects worth catching, with equal weight and no plug-in.
 */
export const PER_EVENT_BETS = [0.6, 0.3, 0.12, 0.05];
const PER_EVENT_WEIGHTS = [0.25, 0.25, 0.25, 0.25];
/** Per event, windows stand in for blocks in the bookkeeping (alignment and restarts). */
const EVENT_WINDOW_MS = 1000;
/**
 * Bounded influence: an "above" block pays at most what a block with MAX_ODDS_RATIO × the null's
 * odds would (docs/statistics.md, "Bounded influence"). One burst on one canary pod at 1% weight
 * otherwise pays as much as a 100× fault; effects up to this size are paid in full.
 */
export const MAX_ODDS_RATIO = 10;
/** Largest plug-in bet. */
const MAX_PLUG_IN = 0.9;
/** Weight of a past block in the plug-in's running mean and variance, against the prior. */
const PLUG_IN_PRIOR_BLOCKS = 4;
const PLUG_IN_DECAY = 0.95;

/** The serialisable state of one test. */
export interface BetState {
  direction: Direction;
  /** Block length; 0 = every event is its own block (requests declared independent). */
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

/**
 * Restarts sharing a flat prior: a wealth started at any of the first RESTART_HORIZON restarts (30 min
 * of 30-s restarts) costs at most ln(4·60) ≈ 5.5 nats, about as much after 20 minutes as after 5.
 */
export const RESTART_HORIZON = 60;

/**
 * Prior weight of the wealth starting at block `b` (0 except at restart points): ½ at the step's
 * start; for restart j ≥ 1, ¼/RESTART_HORIZON while j ≤ RESTART_HORIZON plus ¼/(j(j+1)) for ever.
 * The weights sum to 1.
 */
export function startWeight(b: number, restartBlocks: number): number {
  if (b === 0) return 0.5;
  if (b % restartBlocks !== 0) return 0;
  const j = b / restartBlocks;
  const flat = j <= RESTART_HORIZON ? 0.25 / RESTART_HORIZON : 0;
  return flat + 0.25 / (j * (j + 1));
}

function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/**
 * The most an "above" block may pay: the increment of a share whose odds are `odds` × the null's,
 * r = k·Q / (1 + (k − 1)·Q), i.e. Z = k / (1 + (k − 1)·Q) − 1.
 */
export function incrementCap(q: number, odds: number): number {
  return odds / (1 + (odds - 1) * q) - 1;
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
  return direction === "above" ? Math.min((r - q) / q, incrementCap(q, MAX_ODDS_RATIO)) : (q - r) / (1 - q);
}

function plugInBet(p: BetState["plugIn"]): number {
  const w = p.weight + PLUG_IN_PRIOR_BLOCKS;
  const mean = p.sum / w;
  const variance = (p.sumSquares + PLUG_IN_PRIOR_BLOCKS) / w - mean * mean;
  const bet = mean / (Math.max(variance, 1e-6) + mean * mean);
  return Math.min(MAX_PLUG_IN, Math.max(0, bet));
}

/**
 * ln of bet λ's factor for a closed window judged per event: num events of den on the tested side,
 * each paying 1 + λ·(1 − q)/q (above) and the rest 1 − λ; mirrored for below.
 */
export function perEventLogFactor(
  direction: Direction,
  lambda: number,
  num: number,
  den: number,
  nullMass: number,
): number {
  const q = nullMass / den;
  const hit = Math.min(den, Math.max(0, num));
  const [up, down] = direction === "above" ? [hit, den - hit] : [den - hit, hit];
  const gain = direction === "above" ? (1 - q) / q : q / (1 - q);
  const lost = down > 0 ? down * Math.log1p(-lambda) : 0;
  return up * Math.log1p(lambda * gain) + lost;
}

function unitMs(s: BetState): number {
  return s.blockMs > 0 ? s.blockMs : EVENT_WINDOW_MS;
}

function closeBlock(s: BetState): BetState {
  const z = increment(s.direction, s.num, s.den, s.nullMass);
  const open = { ...s, num: 0, den: 0, nullMass: 0 };
  if (z === undefined) return open;
  const pi = startWeight(s.blocks, s.restartBlocks);
  const perEvent = s.blockMs === 0;
  const bets = perEvent ? PER_EVENT_BETS : [...BETS, plugInBet(s.plugIn)];
  const logWealth = s.logWealth.map((lw, k) => {
    const started = pi > 0 ? logAddExp(lw, Math.log(pi)) : lw;
    const factor = perEvent
      ? perEventLogFactor(s.direction, bets[k], s.num, s.den, s.nullMass)
      : Math.log1p(bets[k] * z);
    return started + factor;
  });
  const d = PLUG_IN_DECAY;
  const plugIn = {
    weight: d * s.plugIn.weight + 1,
    sum: d * s.plugIn.sum + z,
    sumSquares: d * s.plugIn.sumSquares + z * z,
  };
  return { ...open, blocks: s.blocks + 1, logWealth, started: s.started + pi, plugIn };
}

/**
 * The state itself, or a fresh test when it was kept by a controller with another set of bets (its
 * wealths cannot be mapped onto these): evidence then starts over, which can only delay a verdict.
 */
export function compatibleBet(s: BetState): BetState {
  if (s.logWealth.length !== BETS.length + 1) return createBet(s.direction, s.blockMs, s.restartBlocks);
  if (s.logWealth.every((lw) => typeof lw === "number")) return s;
  // JSON has no -Infinity: a wealth not yet started comes back from status.analysisState as null,
  // which arithmetic would read as ln 1 = 0 (wealth 1 for every arm, an inflated e-value).
  return {
    ...s,
    logWealth: s.logWealth.map((lw) => (typeof lw === "number" ? lw : Number.NEGATIVE_INFINITY)),
  };
}

/** The state after one more window (windows in time order). */
export function observeBet(kept: BetState, w: BetWindow): BetState {
  const s = compatibleBet(kept);
  const unit = unitMs(s);
  const blockStart = w.startMs - (((w.startMs % unit) + unit) % unit);
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
export function settleBet(kept: BetState, nowMs: number): BetState {
  const s = compatibleBet(kept);
  if (s.blockStartMs === null || nowMs < s.blockStartMs + unitMs(s)) return s;
  return { ...closeBlock(s), blockStartMs: null };
}

/** The e-value: the bets' wealths averaged with BET_WEIGHTS, plus the prior mass not yet started. */
export function betEValue(kept: BetState): number {
  const s = compatibleBet(kept);
  const weights = s.blockMs === 0 ? PER_EVENT_WEIGHTS : BET_WEIGHTS;
  let sum = 0;
  s.logWealth.forEach((lw, k) => {
    sum += (weights[k] ?? 0) * Math.exp(Math.min(lw, 700));
  });
  return sum + Math.max(0, 1 - s.started);
}
