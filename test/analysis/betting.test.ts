/**
 * The block betting e-detector: increments, prior weights, validity under clustered nulls (fixed
 * seed, enough runs to see a rate near α) and late-onset detection.
 */
import { describe, expect, it } from "vitest";
import {
  type BetState,
  betEValue,
  compatibleBet,
  createBet,
  increment,
  incrementCap,
  MAX_ODDS_RATIO,
  observeBet,
  PER_EVENT_BETS,
  perEventLogFactor,
  RESTART_HORIZON,
  startWeight,
} from "../../controller/analysis/betting.js";
import { createCountTest, eValue, failTestConfig, update } from "../../controller/analysis/eprocess.js";
import { binomial, mulberry32, poisson } from "../../controller/analysis/simulate.js";

const BLOCK = 10_000;

describe("increment", () => {
  it.each([
    ["above", 1, 10, 0.1, 0], // share 10% at null 10%
    ["above", 3, 10, 0.1, 2], // 3× the share: paid in full
    ["above", 10, 10, 0.1, 10 / 1.9 - 1], // everything on the canary: paid as odds ratio 10, not (1 − q)/q = 9
    ["above", 50, 100, 0.01, 10 / 1.09 - 1], // one canary pod's burst at 1% weight: not 49
    ["above", 0, 10, 0.1, -1], // nothing on the canary: the floor
    ["below", 0, 10, 0.1, 0.1 / 0.9],
    ["below", 10, 10, 0.1, -1],
  ] as const)("%s: %d of %d at q=%d → %d", (direction, num, den, q, want) => {
    expect(increment(direction, num, den, q * den)).toBeCloseTo(want, 12);
  });

  it.each([
    [0, 0, 0],
    [1, 1, 0], // q = 0: no room under the null
    [1, 1, 1], // q = 1
  ])("no information: num %d, den %d, null mass %d", (num, den, mass) => {
    expect(increment("above", num, den, mass)).toBeUndefined();
  });
});

describe("bounded influence (above)", () => {
  it.each([0.001, 0.01, 0.1, 0.5, 0.9])(
    "at q=%d a share with odds ratio ≤ MAX_ODDS_RATIO is paid in full",
    (q) => {
      for (const odds of [1, 2, 5, MAX_ODDS_RATIO]) {
        const r = (odds * q) / (1 + (odds - 1) * q);
        expect(increment("above", r * 1e6, 1e6, q * 1e6)).toBeCloseTo((r - q) / q, 9);
        expect(incrementCap(q, odds)).toBeCloseTo((r - q) / q, 12);
      }
      const all = increment("above", 1e6, 1e6, q * 1e6);
      expect(all).toBeCloseTo(incrementCap(q, MAX_ODDS_RATIO), 12);
      expect(all).toBeLessThan((1 - q) / q);
    },
  );

  it.each([
    { q: 0.01, share: 0.5 }, // 20% failures on the canary's one pod vs 0.2% on stable's ten
    { q: 0.01, share: 1 },
    { q: 0.05, share: 1 },
  ])(
    "one burst straddling two blocks at share $q (canary share $share) stays below 1/α = 100",
    ({ q, share }) => {
      let s = createBet("above", BLOCK, 3);
      for (let b = 0; b < 6; b++) s = feed(s, b, 0, 0, q); // quiet: no failures anywhere
      s = feed(s, 6, share * 40, 40, q);
      s = feed(s, 7, share * 40, 40, q);
      s = feed(s, 8, 0, 0, q);
      expect(betEValue(s)).toBeLessThan(100);
    },
  );
});

describe("startWeight", () => {
  it("puts half the prior on the step's start and the rest on restarts, summing to at most 1", () => {
    expect(startWeight(0, 3)).toBe(0.5);
    expect(startWeight(1, 3)).toBe(0);
    expect(startWeight(3, 3)).toBeCloseTo(0.25 / RESTART_HORIZON + 0.125, 15);
    // flat over the horizon: restart 40 (20 min of 30-s restarts) still weighs more than 1/240
    expect(startWeight(120, 3)).toBeGreaterThan(0.25 / RESTART_HORIZON);
    expect(startWeight(3 * (RESTART_HORIZON + 1), 3)).toBeCloseTo(
      0.25 / ((RESTART_HORIZON + 1) * (RESTART_HORIZON + 2)),
      15,
    );
    let sum = 0;
    for (let b = 0; b < 300_000; b++) sum += startWeight(b, 3);
    expect(sum).toBeLessThanOrEqual(1);
    expect(sum).toBeGreaterThan(0.999);
  });
});

/** Blocks whose events come in clusters: each cluster lands wholly on the canary with chance q. */
function clusteredBlock(rng: () => number, q: number, clusters: number, meanSize: number, lift = 1) {
  let num = 0;
  let den = 0;
  const k = poisson(rng, clusters);
  for (let i = 0; i < k; i++) {
    const size = 1 + poisson(rng, meanSize - 1);
    den += size;
    if (rng() < Math.min(1, q * lift)) num += size;
  }
  return { num, den };
}

function feed(s: BetState, block: number, num: number, den: number, q: number): BetState {
  return observeBet(observeBet(s, { startMs: block * BLOCK, num, den, q }), {
    startMs: block * BLOCK + BLOCK - 1000,
    num: 0,
    den: 0,
    q,
  });
}

describe("validity under clustered nulls (A/A)", () => {
  const ALPHA = 0.01;
  const RUNS = 400;
  const BLOCKS = 180; // 30 minutes of 10-s blocks
  it.each([
    { q: 0.01, clusters: 3, meanSize: 8 },
    { q: 0.1, clusters: 5, meanSize: 5 },
    { q: 0.5, clusters: 2, meanSize: 20 },
  ])(
    "share $q, $clusters clusters of ~$meanSize events per block: rejects at most ~α",
    ({ q, clusters, meanSize }) => {
      const rng = mulberry32(7);
      let betting = 0;
      let perEvent = 0;
      for (let run = 0; run < RUNS; run++) {
        let s = createBet("above", BLOCK, 3);
        let count = createCountTest(failTestConfig(1));
        if (count instanceof Error) throw count;
        let bettingHit = false;
        let countHit = false;
        for (let b = 0; b < BLOCKS; b++) {
          const { num, den } = clusteredBlock(rng, q, clusters, meanSize);
          s = feed(s, b, num, den, q);
          // the per-event test sees the same events as independent draws at share q
          count = update(count, {
            canaryRequests: q,
            stableRequests: 1 - q,
            canaryEvents: num,
            stableEvents: den - num,
          });
          bettingHit ||= betEValue(s) >= 1 / ALPHA;
          countHit ||= eValue(count) >= 1 / ALPHA;
        }
        if (bettingHit) betting++;
        if (countHit) perEvent++;
      }
      // Ville: ≤ α; 400 runs at α = 1% allow a few by chance (binomial 99.9% quantile is 11)
      expect(betting).toBeLessThanOrEqual(11);
      // the same data counted per event is overconfident: far above α
      expect(perEvent).toBeGreaterThan(4 * betting + 20);
    },
  );
});

describe("validity when a pod's burst straddles blocks (A/A, dependent blocks)", () => {
  /**
   * One canary pod and ten stable pods, each failing 0.2% of its requests and, about every 10
   * minutes, 20% for ~10 s (the pod-burst traffic model). Windows of 1 s, blocks of 10 s: a burst
   * that starts late in one block carries on into the next, so blocks are not independent.
   */
  function burstRun(rng: () => number, q: number, rps: number, seconds: number): boolean {
    const burstLeft = new Array<number>(11).fill(0);
    let s = createBet("above", BLOCK, 3);
    for (let t = 0; t < seconds; t++) {
      let num = 0;
      let den = 0;
      burstLeft.forEach((left, pod) => {
        const left2 = left <= 0 && rng() < 1 / 600 ? -10 * Math.log(1 - rng()) : left;
        const requests = Math.round(pod === 0 ? rps * q : (rps * (1 - q)) / 10);
        const failed = binomial(rng, requests, left2 > 0 ? 0.2 : 0.002);
        den += failed;
        if (pod === 0) num += failed;
        burstLeft[pod] = left2 - 1;
      });
      s = observeBet(s, { startMs: t * 1000, num, den, q });
      if (betEValue(s) >= 100) return true;
    }
    return false;
  }

  it.each([
    { q: 0.01, rps: 300, seconds: 180 }, // a 3-minute 1% step (uncapped: 21/400)
    { q: 0.01, rps: 50, seconds: 600 }, // (uncapped: 46/400)
  ])("canary share $q, $rps rps, $seconds s: rejects at most ~α", ({ q, rps, seconds }) => {
    const rng = mulberry32(5);
    let hits = 0;
    for (let run = 0; run < 400; run++) if (burstRun(rng, q, rps, seconds)) hits++;
    // binomial(400, 1%) 99.9% quantile
    expect(hits).toBeLessThanOrEqual(11);
  });
});

describe("late onsets", () => {
  /** Blocks until rejection when the canary takes `lift`× its share from block `onset` on. */
  function delay(onset: number, seed: number): number {
    const rng = mulberry32(seed);
    const q = 0.1;
    let s = createBet("above", BLOCK, 3);
    for (let b = 0; b < onset + 200; b++) {
      const lift = b >= onset ? 3 : 1;
      const num = binomial(rng, 100, Math.min(1, q * lift));
      s = feed(s, b, num, 100, q);
      if (b >= onset && betEValue(s) >= 100) return b - onset + 1;
    }
    return Number.POSITIVE_INFINITY;
  }

  it.each([
    { onset: 30, name: "5 min" },
    { onset: 120, name: "20 min" },
  ])(
    "a change after $name of healthy blocks is caught within a few blocks of one present from the start",
    ({ onset }) => {
      for (let seed = 1; seed <= 5; seed++) {
        const early = delay(0, seed);
        const late = delay(onset, seed);
        expect(early).toBeLessThan(10);
        expect(late).toBeLessThanOrEqual(early + 4);
      }
    },
  );
});

describe("per event (blockDuration 0s)", () => {
  it.each([
    ["above", 0.5, 2, 3, 0.3, 2 * Math.log1p(0.5 * (0.7 / 0.3)) + Math.log(0.5)],
    ["above", 0.2, 0, 10, 0.1, 10 * Math.log(0.8)],
    ["below", 0.5, 1, 4, 0.5, 3 * Math.log1p(0.5) + Math.log(0.5)],
  ] as const)("%s, λ %d: %d of %d at q=%d", (direction, lambda, num, den, q, want) => {
    expect(perEventLogFactor(direction, lambda, num, den, q * den)).toBeCloseTo(want, 12);
  });

  it.each([
    ["above", 0.1, 50],
    ["above", 0.5, 7],
    ["below", 0.01, 200],
    ["below", 0.3, 20],
  ] as const)(
    "%s at q=%d over %d independent events: every bet's factor has mean exactly 1",
    (direction, q, n) => {
      for (const lambda of PER_EVENT_BETS) {
        let mean = 0;
        let pmf = (1 - q) ** n; // P(X = 0), then by recurrence
        for (let x = 0; x <= n; x++) {
          mean += pmf * Math.exp(perEventLogFactor(direction, lambda, x, n, q * n));
          pmf *= ((n - x) / (x + 1)) * (q / (1 - q));
        }
        expect(mean).toBeCloseTo(1, 9);
      }
    },
  );

  /** Windows until the per-event test rejects at 1/α, the canary taking `lift`× its share q. */
  function perEventRun(rng: () => number, q: number, lift: number, windows: number, alpha: number) {
    let s = createBet("above", 0, 30);
    for (let t = 0; t < windows; t++) {
      const den = 14;
      s = observeBet(s, { startMs: t * 1000, num: binomial(rng, den, Math.min(1, q * lift)), den, q });
      s = observeBet(s, { startMs: t * 1000 + 1000, num: 0, den: 0, q });
      if (betEValue(s) >= 1 / alpha) return t + 1;
    }
    return Number.POSITIVE_INFINITY;
  }

  it("keeps α on independent events and catches a 3.6x share within seconds", () => {
    const rng = mulberry32(11);
    let falseAlarms = 0;
    for (let run = 0; run < 400; run++) if (perEventRun(rng, 0.1, 1, 600, 0.01) < Infinity) falseAlarms++;
    expect(falseAlarms).toBeLessThanOrEqual(11);
    // the traffic models' 5x at 10%: 14 failures a second, 36% of them on the canary
    const times = Array.from({ length: 20 }, () => perEventRun(rng, 0.1, 3.6, 600, 0.001));
    times.sort((a, b) => a - b);
    expect(times[10]).toBeLessThanOrEqual(6);
  });
});

describe("compatibleBet", () => {
  it("starts over a state kept with another set of bets, and keeps one of this set", () => {
    const ours = feed(createBet("above", BLOCK, 3), 0, 9, 10, 0.1);
    expect(compatibleBet(ours)).toBe(ours);
    const older = { ...ours, logWealth: [...ours.logWealth, 3] };
    expect(compatibleBet(older)).toEqual(createBet("above", BLOCK, 3));
    expect(Number.isFinite(betEValue(feed(older, 1, 9, 10, 0.1)))).toBe(true);
  });

  it("reads a state saved before its first block as it was: JSON's null for -Infinity is not wealth 1", () => {
    const fresh = createBet("above", BLOCK, 3);
    const restored = JSON.parse(JSON.stringify(fresh)) as BetState;
    expect(restored.logWealth[0]).toBeNull();
    expect(compatibleBet(restored)).toEqual(fresh);
    const a = feed(fresh, 0, 9, 10, 0.1);
    const b = feed(restored, 0, 9, 10, 0.1);
    expect(betEValue(b)).toBeCloseTo(betEValue(a), 12);
  });
});
