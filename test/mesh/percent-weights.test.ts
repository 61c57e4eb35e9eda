import { describe, expect, it } from "vitest";
import { percentWeights } from "../../controller/mesh/percent-weights.js";

describe("percentWeights", () => {
  it.each([
    [
      [9000, 1000],
      [90, 10],
    ],
    [
      [10000, 0],
      [100, 0],
    ],
    [
      [0, 10000],
      [0, 100],
    ],
    [
      [9950, 50],
      [99, 1],
    ],
    [
      [9999, 1],
      [99, 1],
    ],
    [
      [7550, 2450],
      [76, 24],
    ],
    [
      [3333, 3333, 3334],
      [33, 33, 34],
    ],
    [
      [9990, 5, 5],
      [98, 1, 1],
    ],
    [
      [5049, 4951],
      [50, 50],
    ],
    [
      [2500, 2500, 2500, 2500],
      [25, 25, 25, 25],
    ],
  ])("%j bp → %j %%", (bp, want) => {
    const got = percentWeights(bp);
    expect(got).toEqual(want);
    expect(got.reduce((a, b) => a + b, 0)).toBe(100);
  });

  it("sums to 100 and keeps every non-zero share for all two-way splits", () => {
    for (let canary = 0; canary <= 10000; canary += 7) {
      const [s, c] = percentWeights([10000 - canary, canary]);
      expect(s + c).toBe(100);
      expect(c > 0).toBe(canary > 0);
      expect(s > 0).toBe(canary < 10000);
      expect(Math.abs(c - canary / 100)).toBeLessThan(1);
    }
  });
});
