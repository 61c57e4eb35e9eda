import { describe, expect, it } from "vitest";
import {
  judgeProportion,
  judgeRate,
  proportionInterval,
  proportionLogE,
  rateInterval,
  rateLogE,
} from "../../controller/analysis/confidence.js";
import { lbeta, lgamma } from "../../controller/analysis/math.js";
import { binomial, mulberry32, poisson } from "../../controller/analysis/simulate.js";

const ALPHA = 0.01;
const UNIFORM = { a: 1, b: 1 };

describe("log-gamma", () => {
  it.each([
    [1, 0],
    [2, 0],
    [5, Math.log(24)],
    [0.5, Math.log(Math.sqrt(Math.PI))],
    [101, 363.73937555556347], // ln(100!)
  ])("lgamma(%d)", (x, want) => {
    expect(lgamma(x)).toBeCloseTo(want, 10);
  });

  it("lbeta(1, n) = -ln n", () => {
    expect(lbeta(1, 1000)).toBeCloseTo(-Math.log(1000), 10);
  });
});

describe("proportion confidence sequence: known answers", () => {
  // With a uniform prior and x = 0: M(p) = 1 / ((n + 1)(1 − p)^n), so the upper end is
  // 1 − (α / (n + 1))^(1/n); by symmetry x = n gives the lower end (α / (n + 1))^(1/n).
  it.each([10, 100, 1000, 100_000])("x = 0 and x = n, n = %d", (n) => {
    const edge = (ALPHA / (n + 1)) ** (1 / n);
    const none = proportionInterval(0, n, ALPHA, UNIFORM);
    expect(none.lower).toBe(0);
    expect(none.upper).toBeCloseTo(1 - edge, 9);
    const all = proportionInterval(n, n, ALPHA, UNIFORM);
    expect(all.lower).toBeCloseTo(edge, 9);
    expect(all.upper).toBe(1);
  });

  it("no data is the whole range", () => {
    expect(proportionInterval(0, 0, ALPHA)).toEqual({ lower: 0, upper: 1 });
  });

  it("interval ends sit on the 1/alpha boundary and contain the estimate", () => {
    for (const [x, n] of [
      [3, 50],
      [120, 1000],
      [5000, 1_000_000],
    ]) {
      const { lower, upper } = proportionInterval(x, n, ALPHA);
      expect(lower).toBeLessThan(x / n);
      expect(upper).toBeGreaterThan(x / n);
      expect(proportionLogE(x, n, lower)).toBeCloseTo(-Math.log(ALPHA), 6);
      expect(proportionLogE(x, n, upper)).toBeCloseTo(-Math.log(ALPHA), 6);
    }
  });

  it("narrows as data grows", () => {
    const widths = [100, 1000, 10_000, 100_000].map((n) => {
      const i = proportionInterval(n / 100, n, ALPHA);
      return i.upper - i.lower;
    });
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeLessThan(widths[i - 1]);
  });
});

describe("absolute SLO verdicts", () => {
  it.each([
    { x: 0, n: 10, slo: 0.01, verdict: "inconclusive" },
    { x: 0, n: 0, slo: 0.01, verdict: "inconclusive" },
    { x: 0, n: 1000, slo: 0.01, verdict: "pass" },
    { x: 5, n: 10_000, slo: 0.01, verdict: "pass" },
    { x: 12, n: 1000, slo: 0.01, verdict: "inconclusive" },
    { x: 50, n: 1000, slo: 0.01, verdict: "fail" },
    { x: 3, n: 3, slo: 0.01, verdict: "fail" },
    { x: 1, n: 1, slo: 0.01, verdict: "inconclusive" },
  ])("$x of $n against $slo: $verdict", ({ x, n, slo, verdict }) => {
    const j = judgeProportion(x, n, slo, ALPHA);
    expect(j.verdict).toBe(verdict);
    // the e-value against the SLO crosses 1/α exactly when the SLO leaves the interval
    expect(j.eValue >= 1 / ALPHA).toBe(verdict !== "inconclusive");
  });

  it.each([
    { k: 0, minutes: 10, max: 10, verdict: "pass" },
    { k: 600, minutes: 10, max: 10, verdict: "fail" },
    { k: 95, minutes: 10, max: 10, verdict: "inconclusive" },
    { k: 3, minutes: 0.05, max: 10, verdict: "inconclusive" },
    { k: 0, minutes: 0, max: 10, verdict: "inconclusive" },
  ])("rate $k events in $minutes min against $max/min: $verdict", ({ k, minutes, max, verdict }) => {
    expect(judgeRate(k, minutes, max, ALPHA).verdict).toBe(verdict);
  });

  it("rate interval ends sit on the boundary", () => {
    const prior = { a: 1, b: 0.1 };
    const { lower, upper } = rateInterval(40, 5, ALPHA, prior);
    expect(lower).toBeLessThan(8);
    expect(upper).toBeGreaterThan(8);
    expect(rateLogE(40, 5, lower, prior)).toBeCloseTo(-Math.log(ALPHA), 6);
    expect(rateLogE(40, 5, upper, prior)).toBeCloseTo(-Math.log(ALPHA), 6);
  });
});

describe("coverage in simulation (true value outside the sequence at any look)", () => {
  it("proportion: Bernoulli batches of 1..50, 300 looks, 4 true rates", () => {
    const rng = mulberry32(7);
    const rates = [0.001, 0.01, 0.1, 0.5];
    const runsPerRate = 300;
    let misses = 0;
    for (const p of rates) {
      for (let run = 0; run < runsPerRate; run++) {
        let x = 0;
        let n = 0;
        for (let look = 0; look < 300; look++) {
          const batch = 1 + Math.floor(rng() * 50);
          x += binomial(rng, batch, p);
          n += batch;
          if (proportionLogE(x, n, p) >= -Math.log(ALPHA)) {
            misses++;
            break;
          }
        }
      }
    }
    const runs = rates.length * runsPerRate;
    console.log(`proportion coverage: ${misses}/${runs} runs ever excluded the true rate (alpha ${ALPHA})`);
    expect(misses / runs).toBeLessThanOrEqual(ALPHA + 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / runs));
  });

  it("rate: Poisson events per second, 600 looks, 3 true rates", () => {
    const rng = mulberry32(11);
    const perMinute = [0.5, 6, 120];
    const runsPerRate = 300;
    let misses = 0;
    for (const lambda of perMinute) {
      const prior = { a: 1, b: 1 / lambda };
      for (let run = 0; run < runsPerRate; run++) {
        let k = 0;
        for (let s = 1; s <= 600; s++) {
          k += poisson(rng, lambda / 60);
          if (rateLogE(k, s / 60, lambda, prior) >= -Math.log(ALPHA)) {
            misses++;
            break;
          }
        }
      }
    }
    const runs = perMinute.length * runsPerRate;
    console.log(`rate coverage: ${misses}/${runs} runs ever excluded the true rate`);
    expect(misses / runs).toBeLessThanOrEqual(ALPHA + 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / runs));
  });
});
