import { describe, expect, it } from "vitest";
import {
  type CountTestState,
  type CountWindow,
  createCountTest,
  eValue,
  failTestConfig,
  passTestConfig,
  update,
} from "../../controller/analysis/eprocess.js";
import { simulateCounts, type TrafficSpec, type WeightStep } from "../../controller/analysis/simulate.js";

const ALPHA = 0.01;

function test(config: Parameters<typeof createCountTest>[0]): CountTestState {
  const t = createCountTest(config);
  if (t instanceof Error) throw t;
  return t;
}

function w(
  canaryRequests: number,
  stableRequests: number,
  canaryEvents: number,
  stableEvents: number,
): CountWindow {
  return { canaryRequests, stableRequests, canaryEvents, stableEvents };
}

describe("count e-process: exact small cases", () => {
  const cases: { name: string; grid: number[]; weights: number[]; windows: CountWindow[]; e: number }[] = [
    { name: "no data", grid: [2], weights: [1], windows: [], e: 1 },
    // s = 1/2, one canary failure: LR(2) = 2 / (2·0.5 + 0.5) = 4/3
    { name: "one canary failure at s=1/2", grid: [2], weights: [1], windows: [w(1, 1, 1, 0)], e: 4 / 3 },
    // then s = 1/4, two stable failures: LR factor 1 / (2·0.25 + 0.75)^2 = 1/1.5625
    {
      name: "then two stable failures at s=1/4",
      grid: [2],
      weights: [1],
      windows: [w(1, 1, 1, 0), w(1, 3, 0, 2)],
      e: 4 / 3 / 1.5625,
    },
    // mixture: θ=4 gives 4 / 2.5 = 1.6; 0.5·4/3 + 0.5·1.6
    {
      name: "mixture of 2 and 4",
      grid: [2, 4],
      weights: [0.5, 0.5],
      windows: [w(5, 5, 1, 0)],
      e: 0.5 * (4 / 3) + 0.8,
    },
    // the mirror test: θ=0.5 against θ0=1.5 at s=1/2, three stable failures: (1.25/0.75)^3
    {
      name: "pass direction",
      grid: [0.5],
      weights: [1],
      windows: [w(10, 10, 0, 3)],
      e: (1.25 / 0.75) ** 3,
    },
    { name: "window without failures", grid: [2], weights: [1], windows: [w(100, 900, 0, 0)], e: 1 },
    { name: "window without stable traffic", grid: [2], weights: [1], windows: [w(100, 0, 7, 0)], e: 1 },
    { name: "window without canary traffic", grid: [2], weights: [1], windows: [w(0, 100, 0, 7)], e: 1 },
  ];
  it.each(cases)("$name", ({ grid, weights, windows, e }) => {
    const theta0 = grid[0] > 1 ? 1 : 1.5;
    let s = test({ theta0, grid, weights });
    for (const win of windows) s = update(s, win);
    expect(eValue(s)).toBeCloseTo(e, 12);
  });

  it("rejects bad configurations with the field named", () => {
    const bad: [Parameters<typeof createCountTest>[0], string][] = [
      [{ theta0: 0, grid: [2], weights: [1] }, "theta0"],
      [{ theta0: 1, grid: [], weights: [] }, "grid"],
      [{ theta0: 1, grid: [2, 0.5], weights: [0.5, 0.5] }, "grid[1]"],
      [{ theta0: 1, grid: [1], weights: [1] }, "grid[0]"],
      [{ theta0: 1, grid: [2, 3], weights: [0.5, 0.6] }, "weights"],
      [{ theta0: 1, grid: [2, 3], weights: [1] }, "weights"],
    ];
    for (const [config, field] of bad) {
      const r = createCountTest(config);
      expect(r).toBeInstanceOf(Error);
      expect((r as Error).message.startsWith(`${field}:`)).toBe(true);
    }
  });

  it("keeps state as plain JSON", () => {
    let s = test(failTestConfig(1));
    s = update(s, w(10, 90, 2, 3));
    const copy = JSON.parse(JSON.stringify(s)) as CountTestState;
    expect(eValue(update(copy, w(5, 5, 1, 0)))).toBe(eValue(update(s, w(5, 5, 1, 0))));
  });
});

/** A rollout schedule: 1%, 5%, 10%, 25%, 50% canary, one minute each. */
const SCHEDULE: WeightStep[] = [0.01, 0.05, 0.1, 0.25, 0.5].map((canaryWeight, i) => ({
  atSecond: 60 * i,
  canaryWeight,
}));

/** Whether the test's e-value reached 1/α at any window. */
function everRejects(start: CountTestState, windows: readonly CountWindow[]): boolean {
  let s = start;
  for (const win of windows) {
    s = update(s, win);
    if (eValue(s) >= 1 / ALPHA) return true;
  }
  return false;
}

function margin(n: number): number {
  return 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / n);
}

describe("count e-process: A/A simulations stay under alpha", () => {
  const levels = [1, 10, 100, 1000];
  const rates = [0.005, 0.02, 0.1];
  const runsPerLevel = 500;

  it(`fail test, canary identical to stable (${levels.length * runsPerLevel} runs x 300 s)`, () => {
    const fresh = test(failTestConfig(1));
    let rejections = 0;
    for (const rps of levels) {
      for (let i = 0; i < runsPerLevel; i++) {
        const p = rates[i % rates.length];
        const spec: TrafficSpec = {
          seed: 1000 * rps + i,
          seconds: 300,
          rps,
          schedule: SCHEDULE,
          stable: { failureRate: p },
          canary: { failureRate: p },
        };
        if (everRejects(fresh, simulateCounts(spec))) rejections++;
      }
    }
    const runs = levels.length * runsPerLevel;
    console.log(
      `A/A fail test: ${rejections}/${runs} runs falsely rejected (${(rejections / runs).toFixed(4)}, alpha ${ALPHA})`,
    );
    expect(rejections / runs).toBeLessThanOrEqual(ALPHA + margin(runs));
  });

  it("pass test, canary exactly 1.5x stable (its null boundary)", () => {
    const fresh = test(passTestConfig(1.5));
    let rejections = 0;
    const runs = 400;
    for (let i = 0; i < runs; i++) {
      const p = rates[i % rates.length];
      const spec: TrafficSpec = {
        seed: 77_000 + i,
        seconds: 300,
        rps: levels[i % levels.length],
        schedule: SCHEDULE,
        stable: { failureRate: p / 1.5 },
        canary: { failureRate: p },
      };
      if (everRejects(fresh, simulateCounts(spec))) rejections++;
    }
    console.log(
      `pass test at theta=1.5: ${rejections}/${runs} runs falsely passed (${(rejections / runs).toFixed(4)})`,
    );
    expect(rejections / runs).toBeLessThanOrEqual(ALPHA + margin(runs));
  });
});

interface Detection {
  detected: boolean;
  canaryFailures: number;
  canaryRequests: number;
  totalFailures: number;
  seconds: number;
}

function timeToDetect(start: CountTestState, windows: readonly CountWindow[]): Detection {
  let s = start;
  let canaryRequests = 0;
  for (let t = 0; t < windows.length; t++) {
    s = update(s, windows[t]);
    canaryRequests += windows[t].canaryRequests;
    if (eValue(s) >= 1 / ALPHA) {
      return {
        detected: true,
        canaryFailures: s.canaryEvents,
        canaryRequests,
        totalFailures: s.totalEvents,
        seconds: t + 1,
      };
    }
  }
  return {
    detected: false,
    canaryFailures: s.canaryEvents,
    canaryRequests,
    totalFailures: s.totalEvents,
    seconds: windows.length,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe("count e-process: power at 10% canary share", () => {
  it("detects 2x and 5x failure-rate ratios; prints the power table", () => {
    const rows: string[] = [];
    for (const ratio of [2, 5]) {
      const runs = 60;
      const results: Detection[] = [];
      for (let i = 0; i < runs; i++) {
        const spec: TrafficSpec = {
          seed: 5000 * ratio + i,
          seconds: 3600,
          rps: 100,
          schedule: [{ atSecond: 0, canaryWeight: 0.1 }],
          stable: { failureRate: 0.01 },
          canary: { failureRate: 0.01 * ratio },
        };
        results.push(timeToDetect(test(failTestConfig(1)), simulateCounts(spec)));
      }
      const detected = results.filter((r) => r.detected);
      expect(detected.length / runs).toBeGreaterThanOrEqual(0.95);
      rows.push(
        `| ${ratio}x | ${detected.length}/${runs} | ${median(detected.map((r) => r.canaryFailures))} | ` +
          `${median(detected.map((r) => r.canaryRequests))} | ${median(detected.map((r) => r.totalFailures))} | ` +
          `${median(detected.map((r) => r.seconds))} |`,
      );
    }
    console.log(
      [
        "Power, canary share 10%, stable failure rate 1%, 100 rps, alpha 0.01 (medians over detected runs):",
        "| ratio | detected | canary failures | canary requests | all failures | seconds |",
        "|---|---|---|---|---|---|",
        ...rows,
      ].join("\n"),
    );
  });

  it("does not fail a canary that is better than stable", () => {
    const spec: TrafficSpec = {
      seed: 42,
      seconds: 600,
      rps: 500,
      schedule: [{ atSecond: 0, canaryWeight: 0.1 }],
      stable: { failureRate: 0.05 },
      canary: { failureRate: 0.01 },
    };
    const windows = simulateCounts(spec);
    expect(everRejects(test(failTestConfig(1)), windows)).toBe(false);
    expect(everRejects(test(passTestConfig(1.5)), windows)).toBe(true);
  });
});
