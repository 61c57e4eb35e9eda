import { describe, expect, it } from "vitest";
import {
  type AnalysisInput,
  type AnalysisResult,
  type AnalysisState,
  combine,
  evaluate,
} from "../../controller/analysis/analyze.js";
import type { Check } from "../../controller/analysis/checks.js";
import {
  SIM_CANARY,
  SIM_STABLE,
  simulateWindows,
  type TrafficSpec,
} from "../../controller/analysis/simulate.js";
import { emptySketch, merge, quantile, record } from "../../controller/telemetry/sketch.js";
import type { MetricStats, VariantStats, WindowPoint } from "../../controller/telemetry/types.js";
import { countStats } from "../../controller/telemetry/windows.js";

/** Stats of one arm in one window; every request takes `latencyMs`, metrics give one value each. */
function arm(
  requests: number,
  failures: number,
  latencyMs = 10,
  metrics: Record<string, number> = {},
): VariantStats {
  const latencyUs = emptySketch();
  record(latencyUs, latencyMs * 1000, requests);
  const m = new Map<string, MetricStats>();
  for (const [name, value] of Object.entries(metrics)) {
    const sketch = emptySketch();
    record(sketch, value, requests);
    m.set(name, { count: requests, sum: value * requests, sketch });
  }
  return countStats(requests, failures, latencyUs, m);
}

function win(second: number, canary?: VariantStats, stable?: VariantStats): WindowPoint {
  const variants = new Map<string, VariantStats>();
  if (canary) variants.set(SIM_CANARY, canary);
  if (stable) variants.set(SIM_STABLE, stable);
  return { startMs: 1000 * second, variants };
}

function series(seconds: number, make: (t: number) => WindowPoint): WindowPoint[] {
  return Array.from({ length: seconds }, (_, t) => make(t));
}

function run(
  windows: WindowPoint[],
  checks: Check[],
  extra: Partial<AnalysisInput> = {},
  state?: AnalysisState,
) {
  const r = evaluate(
    { windows, canaryVariant: SIM_CANARY, stableVariant: SIM_STABLE, checks, ...extra },
    state,
  );
  if (r instanceof Error) throw r;
  return r;
}

function verdictOf(r: AnalysisResult, name: string) {
  const c = r.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no result for ${name}`);
  return c;
}

describe("overall verdict", () => {
  it.each([
    [[], "pass"],
    [["pass", "pass"], "pass"],
    [["pass", "inconclusive"], "inconclusive"],
    [["inconclusive", "fail", "pass"], "fail"],
  ] as const)("%j -> %s", (verdicts, want) => {
    expect(combine(verdicts)).toBe(want);
  });
});

describe("failureRate, absolute max", () => {
  const check: Check = { kind: "failureRate", name: "errors", max: 0.01 };
  it.each([
    {
      name: "clean canary, 2000 requests",
      windows: series(20, (t) => win(t, arm(100, 0), arm(900, 5))),
      want: "pass",
    },
    { name: "5% failures", windows: series(60, (t) => win(t, arm(100, 5), arm(900, 5))), want: "fail" },
    {
      name: "5% failures shared by stable (incident: judged against stable, no worse)",
      windows: series(60, (t) => win(t, arm(100, 5), arm(900, 45))),
      want: "pass",
    },
    {
      name: "thin data: the first two canary requests fail",
      windows: [win(0, arm(1, 1), arm(100, 0)), win(1, arm(1, 1), arm(100, 0))],
      want: "inconclusive",
    },
    {
      name: "thin data, 20 clean requests",
      windows: series(20, (t) => win(t, arm(1, 0), arm(900, 5))),
      want: "inconclusive",
    },
    {
      name: "zero canary requests",
      windows: series(20, (t) => win(t, undefined, arm(900, 5))),
      want: "inconclusive",
    },
    { name: "no windows at all", windows: [], want: "inconclusive" },
    { name: "a single failed request", windows: [win(0, arm(1, 1), arm(10, 0))], want: "inconclusive" },
  ])("$name: $want", ({ windows, want }) => {
    const r = run(windows, [check]);
    expect(verdictOf(r, "errors").verdict).toBe(want);
    expect(r.verdict).toBe(want);
  });

  it("reports the observed rate and the threshold", () => {
    const c = verdictOf(
      run(
        series(60, (t) => win(t, arm(100, 5), arm(900, 5))),
        [check],
      ),
      "errors",
    );
    expect(c.value).toBeCloseTo(0.05, 12);
    expect(c.threshold).toBe(0.01);
    expect(c.reason).toContain("above max 1.00%");
  });
});

describe("minRequests", () => {
  const check: Check = { kind: "failureRate", name: "errors", max: 0.1 };
  const windows = series(3, (t) => win(t, arm(50, 0), arm(50, 0)));
  it.each([
    { minRequests: 100, want: "pass" },
    { minRequests: 150, want: "pass" },
    { minRequests: 151, want: "inconclusive" },
    { minRequests: 1000, want: "inconclusive" },
  ])("150 clean canary requests with minRequests $minRequests: $want", ({ minRequests, want }) => {
    const c = verdictOf(run(windows, [check], { minRequests }), "errors");
    expect(c.verdict).toBe(want);
    if (want === "inconclusive") expect(c.reason).toContain(`needs ${minRequests} requests`);
  });

  it.each([
    { name: "holds a ceiling breach on thin data", check, want: "inconclusive" },
    {
      name: "never blocks a comparison fail",
      check: { kind: "failureRate", name: "errors", maxRatio: 1 },
      want: "fail",
    },
  ] as const)("$name", ({ check: c, want }) => {
    const bad = series(60, (t) => win(t, arm(50, 40), arm(450, 0)));
    const r = verdictOf(run(bad, [c as Check], { minRequests: 10_000 }), "errors");
    expect(r.verdict).toBe(want);
    if (want === "inconclusive") expect(r.reason).toContain("thin data, 3000 of 10000 canary requests");
  });

  it("counts stable's requests for comparisons", () => {
    const ratio: Check = { kind: "failureRate", name: "ratio", maxRatio: 1 };
    // canary 1000 clean requests, stable has many failures but only 50 requests per second... in 10 s
    const windows = series(10, (t) => win(t, arm(100, 0), arm(10, 5)));
    expect(verdictOf(run(windows, [ratio], { minRequests: 100 }), "ratio").verdict).toBe("pass");
    const r = verdictOf(run(windows, [ratio], { minRequests: 101 }), "ratio");
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toContain("stable 100");
  });
});

describe("failureRate relative to stable", () => {
  const spec = (canaryRate: number, seed: number): TrafficSpec => ({
    seed,
    seconds: 600,
    rps: 200,
    schedule: [{ atSecond: 0, canaryWeight: 0.1 }],
    stable: { failureRate: 0.02 },
    canary: { failureRate: canaryRate },
  });
  it.each([
    { name: "5x worse", canaryRate: 0.1, check: { maxRatio: 1 }, want: "fail" },
    { name: "same as stable", canaryRate: 0.02, check: { maxRatio: 1 }, want: "pass" },
    { name: "much better", canaryRate: 0.001, check: { maxRatio: 1 }, want: "pass" },
    { name: "2x worse, tolerance 3x", canaryRate: 0.04, check: { maxRatio: 3 }, want: "pass" },
    {
      name: "+8 points over 2% baseline, maxIncrease 1 point",
      canaryRate: 0.1,
      check: { maxIncrease: 0.01 },
      want: "fail",
    },
  ])("$name: $want", ({ canaryRate, check, want }) => {
    const checks: Check[] = [{ kind: "failureRate", name: "rel", ...check }];
    const r = run(simulateWindows(spec(canaryRate, 3)), checks, { baselines: { stableFailureRate: 0.02 } });
    expect(verdictOf(r, "rel").verdict).toBe(want);
  });

  it("no failures anywhere is no evidence either way", () => {
    const windows = series(600, (t) => win(t, arm(100, 0), arm(900, 0)));
    const c = verdictOf(run(windows, [{ kind: "failureRate", name: "rel", maxRatio: 1 }]), "rel");
    expect(c.verdict).toBe("inconclusive");
    expect(c.eValue).toBe(1);
  });

  it("maxIncrease without a baseline is inconclusive and says why", () => {
    const windows = series(10, (t) => win(t, arm(100, 50), arm(900, 0)));
    const c = verdictOf(run(windows, [{ kind: "failureRate", name: "inc", maxIncrease: 0.01 }]), "inc");
    expect(c.verdict).toBe("inconclusive");
    expect(c.reason).toContain("baselines.stableFailureRate");
  });
});

describe("latency", () => {
  it.each([
    { name: "fast canary", canaryMs: 20, check: { maxMs: 100 }, want: "pass" },
    { name: "slow canary", canaryMs: 200, check: { maxMs: 100 }, want: "fail" },
  ])("absolute p99, $name: $want", ({ canaryMs, check, want }) => {
    const windows = series(30, (t) => win(t, arm(100, 0, canaryMs), arm(900, 0, 20)));
    const c = verdictOf(run(windows, [{ kind: "latency", name: "p99", quantile: 0.99, ...check }]), "p99");
    expect(c.verdict).toBe(want);
    expect(c.value).toBeCloseTo(canaryMs, -0.5); // sketch estimate within ~1%
    expect(c.threshold).toBe(100);
  });

  const traffic = (canaryMedian: number, seed: number, seconds: number): TrafficSpec => ({
    seed,
    seconds,
    rps: 400,
    startMs: seed === 1 ? 0 : 1_000_000,
    schedule: [{ atSecond: 0, canaryWeight: 0.5 }],
    stable: { failureRate: 0, latencyMs: { median: 20, sigma: 0.5 } },
    canary: { failureRate: 0, latencyMs: { median: canaryMedian, sigma: 0.5 } },
  });
  // stable's p99 from a previous step (different windows than those judged)
  const before = simulateWindows(traffic(20, 1, 60));
  const stableP99 = quantile(
    before.reduce((s, w) => merge(s, w.variants.get(SIM_STABLE)!.latencyUs), emptySketch()),
    0.99,
  );

  it.each([
    { name: "same latency", canaryMedian: 20, want: "pass" },
    { name: "1.1x slower, allowed 1.2x", canaryMedian: 22, want: "pass" },
    { name: "3x slower, allowed 1.2x", canaryMedian: 60, want: "fail" },
  ])("p99 ratio to stable, $name: $want", ({ canaryMedian, want }) => {
    const check: Check = { kind: "latency", name: "p99ratio", quantile: 0.99, maxRatio: 1.2 };
    const windows = simulateWindows(traffic(canaryMedian, 2, 120));
    const c = verdictOf(
      run(windows, [check], { baselines: { stableLatencyUs: { "0.99": stableP99 } } }),
      "p99ratio",
    );
    expect(c.verdict).toBe(want);
    expect(c.value).toBeCloseTo(canaryMedian / 20, 0);
  });

  it("ratio without a baseline is inconclusive", () => {
    const check: Check = { kind: "latency", name: "p99ratio", quantile: 0.99, maxRatio: 1.2 };
    const c = verdictOf(run(simulateWindows(traffic(60, 2, 30)), [check]), "p99ratio");
    expect(c.verdict).toBe("inconclusive");
    expect(c.reason).toContain("needs stable's p99");
  });
});

describe("metricPerRequest", () => {
  const check: Check = { kind: "metricPerRequest", name: "tokens", metric: "tokens", maxRatio: 1.5 };
  const traffic = (canaryMedian: number): TrafficSpec => ({
    seed: 9,
    seconds: 300,
    rps: 200,
    schedule: [{ atSecond: 0, canaryWeight: 0.2 }],
    stable: { failureRate: 0, metrics: { tokens: { median: 400, sigma: 0.3 } } },
    canary: { failureRate: 0, metrics: { tokens: { median: canaryMedian, sigma: 0.3 } } },
  });
  const baselines = { stableMetricMean: { tokens: 400 * Math.exp(0.045) } };
  it.each([
    { name: "same tokens", canaryMedian: 400, want: "pass" },
    { name: "2x tokens", canaryMedian: 800, want: "fail" },
  ])("$name: $want", ({ canaryMedian, want }) => {
    const c = verdictOf(run(simulateWindows(traffic(canaryMedian)), [check], { baselines }), "tokens");
    expect(c.verdict).toBe(want);
    expect(c.value).toBeCloseTo(canaryMedian / 400, 1);
  });

  it("no canary metric is inconclusive", () => {
    const windows = series(60, (t) => win(t, arm(100, 0), arm(100, 0, 10, { tokens: 400 })));
    expect(verdictOf(run(windows, [check], { baselines }), "tokens").verdict).toBe("inconclusive");
  });
});

describe("metricRate", () => {
  const check: Check = { kind: "metricRate", name: "blocks", metric: "guardrail_blocks", maxPerMinute: 10 };
  const blocks = (perSecond: number) =>
    series(600, (t) =>
      win(t, arm(100, 0, 10, perSecond > 0 ? { guardrail_blocks: perSecond / 100 } : {}), arm(100, 0)),
    );
  it.each([
    { name: "no blocks in 10 min", perSecond: 0, want: "pass" },
    { name: "60 per minute", perSecond: 1, want: "fail" },
  ])("$name: $want", ({ perSecond, want }) => {
    const c = verdictOf(run(blocks(perSecond), [check]), "blocks");
    expect(c.verdict).toBe(want);
    expect(c.value).toBeCloseTo(perSecond * 60, 6);
  });

  it("a few seconds of data is inconclusive", () => {
    expect(verdictOf(run(blocks(0).slice(0, 3), [check]), "blocks").verdict).toBe("inconclusive");
  });
});

describe("sustainedForMs", () => {
  const check: Check = { kind: "failureRate", name: "errors", max: 0.01, sustainedForMs: 3000 };
  /** Evaluates after each window and returns the verdict sequence. */
  function stepwise(windows: WindowPoint[]): string[] {
    return stepwiseWith(windows, check);
  }
  function stepwiseWith(windows: WindowPoint[], c: Check): string[] {
    let state: AnalysisState | undefined;
    const out: string[] = [];
    for (const w of windows) {
      const r = run([w], [c], { nowMs: w.startMs + 1000 }, state);
      state = r.state;
      out.push(verdictOf(r, "errors").verdict);
    }
    return out;
  }

  it("fails only once the failure has held for the duration", () => {
    const bad = series(60, (t) => win(t, arm(100, 50), arm(100, 0)));
    const got = stepwise(bad);
    const raw = stepwiseWith(bad, { ...check, sustainedForMs: 0 });
    const first = raw.indexOf("fail");
    expect(first).toBeGreaterThan(0);
    // every evaluation is 1 s apart: the held verdict shows 3 evaluations later, and stays
    expect(got.indexOf("fail")).toBe(first + 3);
    expect(got.slice(first + 3).every((v) => v === "fail")).toBe(true);
  });

  it("restarts the clock whenever the verdict changes", () => {
    const clean = (t: number, n = 1000) => win(t, arm(n, 0), arm(100, 0));
    const windows = [
      clean(0), // 1000 clean: pass starts (held 0 s)
      clean(1),
      clean(2), // pass held 2 s
      win(3, arm(1000, 900), arm(100, 0)), // 900/4000: fail starts
      clean(4), // 900/5000: fail held 1 s
      clean(5, 200_000), // 900/205000 = 0.44%: pass starts again
      clean(6),
      clean(7),
      clean(8), // pass held 3 s
    ];
    const got = stepwise(windows);
    expect(got).toEqual([...new Array(8).fill("inconclusive"), "pass"]);
  });

  it("says how long the verdict has held", () => {
    const r = run(
      series(60, (t) => win(t, arm(1000, 900), arm(100, 0))),
      [check],
      { nowMs: 60_000 },
    );
    expect(verdictOf(r, "errors").reason).toMatch(/^fail for 0s of the required 3s: /);
  });
});

describe("state", () => {
  const checks: Check[] = [
    { kind: "failureRate", name: "errors", max: 0.05, maxRatio: 1 },
    { kind: "metricRate", name: "blocks", metric: "b", maxPerMinute: 100 },
  ];
  const windows = simulateWindows({
    seed: 5,
    seconds: 240,
    rps: 100,
    schedule: [{ atSecond: 0, canaryWeight: 0.3 }],
    stable: { failureRate: 0.01 },
    canary: { failureRate: 0.06, metrics: { b: { median: 1, sigma: 0 } } },
  });

  it("resumes from JSON exactly as an uninterrupted run", () => {
    const whole = run(windows, checks);
    const first = run(windows.slice(0, 120), checks);
    const revived = JSON.parse(JSON.stringify(first.state)) as AnalysisState;
    const second = run(windows, checks, {}, revived); // all windows again: consumed ones are skipped
    expect(second.checks.map((c) => [c.verdict, c.eValue])).toEqual(
      whole.checks.map((c) => [c.verdict, c.eValue]),
    );
    for (const name of ["errors", "blocks"]) {
      expect(second.state.checks[name].conditions).toEqual(whole.state.checks[name].conditions);
      // a verdict first seen at the interrupted evaluation is held since then
      expect(second.state.checks[name].held).toEqual({ verdict: "fail", sinceMs: 120_000 });
    }
    expect(second.state.canaryRequests).toBe(whole.state.canaryRequests);
  });

  it("counts each window once", () => {
    const once = run(windows, checks);
    const twice = run(windows, checks, {}, once.state);
    expect(twice.state.canaryRequests).toBe(once.state.canaryRequests);
  });
});

describe("bad input", () => {
  it.each([
    [{ checks: [{ kind: "failureRate", name: "e" }] }, "checks[0]: needs at least one of max"],
    [
      { checks: [{ kind: "failureRate", name: "e", max: 2 }] },
      "checks[0].max: must be a share in (0, 1), got 2",
    ],
    [
      { checks: [{ kind: "latency", name: "l", quantile: 99, maxMs: 5 }] },
      "checks[0].quantile: must be in (0, 1), got 99",
    ],
    [
      {
        checks: [
          { kind: "metricRate", name: "x", metric: "m", maxPerMinute: 1 },
          { kind: "metricRate", name: "x", metric: "m", maxPerMinute: 1 },
        ],
      },
      'checks[1].name: duplicate check name "x"',
    ],
    [{ checks: [{ kind: "bogus", name: "b" }] }, 'checks[0].kind: unknown check kind "bogus"'],
    [{ checks: [], alpha: 0 }, "alpha: must be in (0, 1), got 0"],
    [{ checks: [], stableVariant: SIM_CANARY }, "stableVariant: must differ"],
  ])("%j", (extra, message) => {
    const r = evaluate({
      windows: [],
      canaryVariant: SIM_CANARY,
      stableVariant: SIM_STABLE,
      ...(extra as Partial<AnalysisInput>),
    } as AnalysisInput);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toContain(message);
  });
});

describe("A/A through evaluate", () => {
  it("a canary identical to stable is rarely failed, evaluating every 10 s over a rollout", () => {
    const checks: Check[] = [{ kind: "failureRate", name: "rel", maxRatio: 1 }];
    const runs = 150;
    let failedRuns = 0;
    for (let i = 0; i < runs; i++) {
      const windows = simulateWindows({
        seed: 900 + i,
        seconds: 300,
        rps: [5, 50, 300][i % 3],
        schedule: [0.05, 0.1, 0.25, 0.5, 0.75].map((canaryWeight, k) => ({ atSecond: 60 * k, canaryWeight })),
        stable: { failureRate: 0.03 },
        canary: { failureRate: 0.03 },
      });
      let state: AnalysisState | undefined;
      for (let end = 10; end <= 300; end += 10) {
        const r = run(
          windows.filter((w) => w.startMs < end * 1000),
          checks,
          {},
          state,
        );
        state = r.state;
        if (r.verdict === "fail") {
          failedRuns++;
          break;
        }
      }
    }
    console.log(`A/A through evaluate: ${failedRuns}/${runs} runs failed (alpha 0.01)`);
    expect(failedRuns / runs).toBeLessThanOrEqual(0.01 + 3 * Math.sqrt((0.01 * 0.99) / runs));
  });
});

describe("failureRate, absolute max with comparison (rare failures)", () => {
  const both: Check = { kind: "failureRate", name: "errors", max: 0.01, maxRatio: 1 };
  const relativeOnly: Check = { kind: "failureRate", name: "errors", maxRatio: 1 };
  it.each([
    {
      name: "no failures anywhere: the SLO decides, comparison undecided",
      check: both,
      windows: series(30, (t) => win(t, arm(100, 0), arm(900, 0))),
      want: "pass",
    },
    {
      name: "no failures, comparison only: nothing decides",
      check: relativeOnly,
      windows: series(30, (t) => win(t, arm(100, 0), arm(900, 0))),
      want: "inconclusive",
    },
    {
      name: "canary within SLO but clearly worse than stable: the comparison fails it",
      check: both,
      windows: series(60, (t) => win(t, arm(100, t % 2 === 0 ? 1 : 0), arm(900, t % 20 === 0 ? 1 : 0))),
      want: "fail",
    },
    {
      name: "thin data: SLO not yet met, so no pass",
      check: both,
      windows: series(5, (t) => win(t, arm(10, 0), arm(90, 0))),
      want: "inconclusive",
    },
  ])("$name -> $want", ({ check, windows, want }) => {
    const r = run(windows, [check], { minRequests: 100 });
    expect(verdictOf(r, "errors").verdict).toBe(want);
    expect(r.verdict).toBe(want);
  });
});
