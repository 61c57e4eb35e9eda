/**
 * The information limit of failure-rate detection: Poisson divergence to the nearest null point, the
 * fastest any valid test can be, and the fewest blocks a block test needs (hand-computed figures).
 */
import { describe, expect, it } from "vitest";
import {
  blockTestSeconds,
  fastestSeconds,
  informationPerSecond,
  type RegressionScenario,
} from "../../controller/analysis/information-limit.js";

/** bench/rollback-time.ts: 50% of the load, 100 canary rps, canary 1% → 5%. */
const ROLLBACK_TIME: RegressionScenario = {
  canaryRps: 100,
  stableRps: 100,
  canaryFailure: 0.05,
  stableFailure: 0.01,
  theta0: 1,
};
/** bench/traffic-models: 10% of 1,000 rps, base 0.5%, canary 5×. */
const MODELS_5X: RegressionScenario = {
  canaryRps: 100,
  stableRps: 900,
  canaryFailure: 0.025,
  stableFailure: 0.005,
  theta0: 1,
};

describe("informationPerSecond", () => {
  it.each([
    // 5/s and 1/s against 3/s each: 5 ln(5/3) − 2 + ln(1/3) + 2
    ["rollback-time 1% → 5%", ROLLBACK_TIME, 5 * Math.log(5 / 3) + Math.log(1 / 3)],
    // 2.5/s and 4.5/s against 0.7/s and 6.3/s
    ["traffic models 5x", MODELS_5X, 2.5 * Math.log(2.5 / 0.7) - 1.8 + 4.5 * Math.log(4.5 / 6.3) + 1.8],
    ["no regression", { ...MODELS_5X, canaryFailure: 0.005 }, 0],
    ["within a 1.5x allowance", { ...MODELS_5X, canaryFailure: 0.007, theta0: 1.5 }, 0],
  ] as const)("%s", (_, scenario, want) => {
    expect(informationPerSecond(scenario)).toBeCloseTo(want, 10);
  });

  it("is the minimum over the null's boundary (no other null point is closer)", () => {
    const at = informationPerSecond(MODELS_5X);
    for (const x of [0.004, 0.006, 0.0065, 0.0075, 0.01]) {
      const kl = (rate: number, mean: number) => rate * Math.log(rate / mean) - rate + mean;
      expect(kl(2.5, 100 * x) + kl(4.5, 900 * x)).toBeGreaterThan(at);
    }
  });
});

describe("fastestSeconds", () => {
  it.each([
    ["rollback-time at α 0.005", ROLLBACK_TIME, 0.005, 3.64],
    ["rollback-time at α 0.01", ROLLBACK_TIME, 0.01, 3.16],
    ["traffic models 5x at α 0.005", MODELS_5X, 0.005, 3.18],
  ] as const)("%s: %d s of data", (_, scenario, alpha, want) => {
    expect(fastestSeconds(scenario, alpha)).toBeCloseTo(want, 2);
  });

  it("never, when the scenario lies in the null", () => {
    expect(fastestSeconds({ ...ROLLBACK_TIME, canaryFailure: 0.01 }, 0.01)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("blockTestSeconds", () => {
  const shape = { blockSeconds: 10, boldestBet: 0.95, boldestWeight: 0.6, startWeight: 0.5 };
  it.each([
    // r = 2.5/7, Q = 0.1: ln(1 + 0.95·2.571) = 1.236 nats a block against ln(1/(0.005·0.3)) = 6.50
    ["traffic models 5x, 10-s blocks", MODELS_5X, shape, 6, 60],
    // r = 5/6, Q = ½: ln(1 + 0.95·⅔) = 0.475 nats a block
    ["rollback-time, 1-s blocks", ROLLBACK_TIME, { ...shape, blockSeconds: 1 }, 14, 14],
  ] as const)("%s: %d blocks", (_, scenario, s, blocks, seconds) => {
    expect(blockTestSeconds(scenario, 0.005, s)).toEqual({ blocks, seconds });
  });
});
