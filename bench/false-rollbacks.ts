/**
 * False rollbacks and power (DESIGN §7, statistics.md "What the tests must show").
 *
 * A/A: canary identical to stable over a 30-minute rollout stepping through a weight schedule,
 * 1 to 1,000 rps (log-uniform per run), a healthy base failure rate (0.05%–0.5%, log-uniform) with
 * per-second noise shared by both arms (an upstream hiccup hits both). Each run is judged by:
 * meshcanary's failure-rate check through `evaluate` every 10 s; the raw count e-process looked at
 * every second; the Flagger-style rule (defaults, and threshold 1); and a one-sided two-proportion
 * z-test at α = 0.01 re-run every 60 s on the cumulative counts (the fixed-horizon habit).
 *
 * Power: a fixed 10% canary share with the canary's failure rate 2× and 5× stable's; failures,
 * canary requests and time until meshcanary's check fails, against the Flagger rule on the same data.
 */

import { evaluate, type AnalysisState } from "../controller/analysis/analyze.js";
import type { Check } from "../controller/analysis/checks.js";
import {
  type CountTestState,
  createCountTest,
  eValue,
  failTestConfig,
  update,
} from "../controller/analysis/eprocess.js";
import {
  FLAGGER_DEFAULTS,
  type FlaggerRuleConfig,
  flaggerRollbackTime,
} from "../controller/analysis/flagger-rule.js";
import {
  binomial,
  mulberry32,
  normal,
  poisson,
  type Rng,
  SIM_CANARY,
  SIM_STABLE,
  type WeightStep,
  weightAt,
} from "../controller/analysis/simulate.js";
import { countStats } from "../controller/telemetry/windows.js";
import type { VariantStats, WindowPoint } from "../controller/telemetry/types.js";
import { type Bench, type BenchContext, type BenchEntry, entry } from "./results.js";

/** The α every test here is held to. */
export const ALPHA = 0.01;
/** One-sided standard-normal quantile for α = 0.01. */
const Z_CRIT = 2.3263478740408408;
const ROLLOUT_SECONDS = 30 * 60;
const EVALUATE_EVERY_S = 10;
const FIXED_TEST_EVERY_S = 60;

/** The weight schedule of the A/A rollouts: 1% → 50% in five 6-minute steps. */
export const AA_SCHEDULE: WeightStep[] = [0.01, 0.05, 0.1, 0.25, 0.5].map((w, i) => ({
  atSecond: i * 360,
  canaryWeight: w,
}));

/** meshcanary's check: canary failure rate no worse than stable's, and at most 5% absolute. */
export const FAILURE_CHECK: Check = { name: "failures", kind: "failureRate", maxRatio: 1, max: 0.05 };

/** One simulated run. */
export interface Scenario {
  seed: number;
  seconds: number;
  rps: number;
  stableRate: number;
  canaryRate: number;
  schedule: WeightStep[];
  /** Log-space sd of the per-second failure-rate multiplier shared by both arms. */
  sharedNoise: number;
}

/** Per-second counts of one run. */
export interface Counts {
  canaryRequests: number;
  stableRequests: number;
  canaryFailures: number;
  stableFailures: number;
}

/** Generates a run's per-second counts (deterministic per seed). */
export function simulate(s: Scenario): Counts[] {
  const rng = mulberry32(s.seed);
  const out: Counts[] = [];
  const meanCorrection = (s.sharedNoise * s.sharedNoise) / 2;
  for (let t = 0; t < s.seconds; t++) {
    const n = poisson(rng, s.rps);
    const canaryRequests = binomial(rng, n, weightAt(s.schedule, t));
    const shared = Math.exp(s.sharedNoise * normal(rng) - meanCorrection);
    out.push({
      canaryRequests,
      stableRequests: n - canaryRequests,
      canaryFailures: binomial(rng, canaryRequests, Math.min(1, s.canaryRate * shared)),
      stableFailures: binomial(rng, n - canaryRequests, Math.min(1, s.stableRate * shared)),
    });
  }
  return out;
}

/** The counts as telemetry windows (1 s each, empty arms omitted). */
export function toWindows(counts: readonly Counts[]): WindowPoint[] {
  return counts.map((c, t) => {
    const variants = new Map<string, VariantStats>();
    if (c.stableRequests > 0) variants.set(SIM_STABLE, countStats(c.stableRequests, c.stableFailures));
    if (c.canaryRequests > 0) variants.set(SIM_CANARY, countStats(c.canaryRequests, c.canaryFailures));
    return { startMs: t * 1000, variants };
  });
}

/** Seconds until meshcanary's check fails (evaluated every 10 s on the new windows only), or null. */
export function meshcanaryFailAt(
  windows: readonly WindowPoint[],
  check: Check = FAILURE_CHECK,
): number | null {
  let state: AnalysisState | undefined;
  for (let end = EVALUATE_EVERY_S; end <= windows.length; end += EVALUATE_EVERY_S) {
    const r = evaluate(
      {
        windows: windows.slice(end - EVALUATE_EVERY_S, end),
        canaryVariant: SIM_CANARY,
        stableVariant: SIM_STABLE,
        checks: [check],
        alpha: ALPHA,
      },
      state,
    );
    if (r instanceof Error) throw r;
    if (r.verdict === "fail") return end;
    state = r.state;
  }
  return null;
}

/** Seconds until the raw count e-process (θ0 = 1) reaches 1/α, looked at every second, or null. */
export function countTestFailAt(counts: readonly Counts[]): number | null {
  let test = createCountTest(failTestConfig(1)) as CountTestState;
  for (let t = 0; t < counts.length; t++) {
    const c = counts[t];
    test = update(test, {
      canaryRequests: c.canaryRequests,
      stableRequests: c.stableRequests,
      canaryEvents: c.canaryFailures,
      stableEvents: c.stableFailures,
    });
    if (eValue(test) >= 1 / ALPHA) return t + 1;
  }
  return null;
}

/** One-sided two-proportion z statistic (canary worse), or null when it is undefined. */
export function zCanaryWorse(canaryFail: number, canaryN: number, stableFail: number, stableN: number) {
  if (canaryN <= 0 || stableN <= 0) return null;
  const pooled = (canaryFail + stableFail) / (canaryN + stableN);
  if (pooled <= 0 || pooled >= 1) return null;
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / canaryN + 1 / stableN));
  return (canaryFail / canaryN - stableFail / stableN) / se;
}

/** Seconds until the z-test re-run every 60 s on cumulative counts rejects at α, or null. */
export function fixedHorizonFailAt(counts: readonly Counts[]): number | null {
  const sum = { cn: 0, cf: 0, sn: 0, sf: 0 };
  for (let t = 0; t < counts.length; t++) {
    const c = counts[t];
    sum.cn += c.canaryRequests;
    sum.cf += c.canaryFailures;
    sum.sn += c.stableRequests;
    sum.sf += c.stableFailures;
    if ((t + 1) % FIXED_TEST_EVERY_S !== 0) continue;
    const z = zCanaryWorse(sum.cf, sum.cn, sum.sf, sum.sn);
    if (z !== null && z > Z_CRIT) return t + 1;
  }
  return null;
}

function flaggerFailAt(windows: readonly WindowPoint[], config: FlaggerRuleConfig): number | null {
  const at = flaggerRollbackTime(windows, SIM_CANARY, 0, windows.length * 1000, config);
  return at === null ? null : at / 1000;
}

function logUniform(rng: Rng, lo: number, hi: number): number {
  return lo * (hi / lo) ** rng();
}

/** The A/A scenario of run i (rps and base rate drawn from the run's own seed). */
export function aaScenario(i: number): Scenario {
  const rng = mulberry32(0x5eed0000 + i);
  const rate = logUniform(rng, 0.0005, 0.005);
  return {
    seed: 0xa0a00000 + i,
    seconds: ROLLOUT_SECONDS,
    rps: logUniform(rng, 1, 1000),
    stableRate: rate,
    canaryRate: rate,
    schedule: AA_SCHEDULE,
    sharedNoise: 0.5,
  };
}

/** Rollback fraction per method over `runs` A/A rollouts. */
export function aaStudy(runs: number) {
  const methods = [
    "meshcanary",
    "countTest",
    "flaggerDefaults",
    "flaggerThreshold1",
    "fixedHorizon",
  ] as const;
  const rolledBack = Object.fromEntries(methods.map((m) => [m, 0])) as Record<
    (typeof methods)[number],
    number
  >;
  for (let i = 0; i < runs; i++) {
    const counts = simulate(aaScenario(i));
    const windows = toWindows(counts);
    if (meshcanaryFailAt(windows) !== null) rolledBack.meshcanary++;
    if (countTestFailAt(counts) !== null) rolledBack.countTest++;
    if (flaggerFailAt(windows, FLAGGER_DEFAULTS) !== null) rolledBack.flaggerDefaults++;
    if (flaggerFailAt(windows, { ...FLAGGER_DEFAULTS, threshold: 1 }) !== null)
      rolledBack.flaggerThreshold1++;
    if (fixedHorizonFailAt(counts) !== null) rolledBack.fixedHorizon++;
  }
  return Object.fromEntries(methods.map((m) => [m, rolledBack[m] / runs])) as Record<
    (typeof methods)[number],
    number
  >;
}

/** Detection figures for one (ratio, rps) cell. */
export interface PowerCell {
  detected: number;
  medianSeconds: number;
  medianCanaryFailures: number;
  medianTotalFailures: number;
  medianCanaryRequests: number;
  flaggerDetected: number;
  flaggerMedianSeconds: number;
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs with the canary `ratio`× worse at a fixed 10% share; detection within an hour. */
export function powerStudy(ratio: number, rps: number, runs: number, baseRate = 0.01): PowerCell {
  const seconds: number[] = [];
  const canaryFailures: number[] = [];
  const totalFailures: number[] = [];
  const canaryRequests: number[] = [];
  const flaggerSeconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const counts = simulate({
      seed: 0xb0000000 + i * 7919 + Math.round(ratio * 100) + rps,
      seconds: 3600,
      rps,
      stableRate: baseRate,
      canaryRate: baseRate * ratio,
      schedule: [{ atSecond: 0, canaryWeight: 0.1 }],
      sharedNoise: 0.5,
    });
    const windows = toWindows(counts);
    const at = meshcanaryFailAt(windows);
    if (at !== null) {
      const seen = counts.slice(0, at);
      seconds.push(at);
      canaryFailures.push(seen.reduce((a, c) => a + c.canaryFailures, 0));
      totalFailures.push(seen.reduce((a, c) => a + c.canaryFailures + c.stableFailures, 0));
      canaryRequests.push(seen.reduce((a, c) => a + c.canaryRequests, 0));
    }
    const f = flaggerFailAt(windows, FLAGGER_DEFAULTS);
    if (f !== null) flaggerSeconds.push(f);
  }
  return {
    detected: seconds.length / runs,
    medianSeconds: median(seconds),
    medianCanaryFailures: median(canaryFailures),
    medianTotalFailures: median(totalFailures),
    medianCanaryRequests: median(canaryRequests),
    flaggerDetected: flaggerSeconds.length / runs,
    flaggerMedianSeconds: median(flaggerSeconds),
  };
}

function sizes(ctx: BenchContext) {
  if (ctx.mode === "full") return { aaRuns: 1000, powerRuns: 200, rps: [10, 100] };
  if (ctx.mode === "quick") return { aaRuns: 100, powerRuns: 40, rps: [100] };
  return { aaRuns: 20, powerRuns: 10, rps: [100] };
}

function aaEntries(runs: number, r: ReturnType<typeof aaStudy>): BenchEntry[] {
  const unit = "fraction of A/A runs rolled back";
  const vsFixed = { baseline: r.fixedHorizon };
  const note = `${runs} runs; baseline: z-test re-run every 60 s`;
  return [
    entry("false-rollbacks.meshcanary", r.meshcanary, unit, {
      goal: `<= ${ALPHA}`,
      met: r.meshcanary <= ALPHA,
      ...vsFixed,
      note: `${note}; evaluate() every 10 s`,
    }),
    entry("false-rollbacks.count-test-every-1s", r.countTest, unit, {
      goal: `<= ${ALPHA}`,
      met: r.countTest <= ALPHA,
      ...vsFixed,
      note,
    }),
    entry("false-rollbacks.flagger-defaults", r.flaggerDefaults, unit, { note: "60 s, 1%, threshold 5" }),
    entry("false-rollbacks.flagger-threshold-1", r.flaggerThreshold1, unit, {
      note: "60 s, 1%, threshold 1",
    }),
    entry("false-rollbacks.fixed-horizon-z-60s", r.fixedHorizon, unit, { note: "one-sided, alpha 0.01" }),
  ];
}

function powerEntries(ratio: number, rps: number, c: PowerCell, runs: number): BenchEntry[] {
  const at = `power.${ratio}x.${rps}rps`;
  const note = `${runs} runs, 10% canary share, base 1% failures, horizon 1 h`;
  const detected = entry(`${at}.detected`, c.detected, "fraction of runs", {
    baseline: c.flaggerDetected,
    note,
  });
  if (c.detected === 0) return [detected];
  return [
    detected,
    entry(`${at}.seconds`, c.medianSeconds, "s (median)", {
      baseline: c.flaggerMedianSeconds,
      note: "baseline: Flagger defaults on the same data",
    }),
    entry(`${at}.canary-failures`, c.medianCanaryFailures, "failures (median)"),
    entry(`${at}.total-failures`, c.medianTotalFailures, "failures (median)"),
    entry(`${at}.canary-requests`, c.medianCanaryRequests, "requests (median)"),
  ];
}

export const falseRollbacks: Bench = {
  name: "false-rollbacks",
  async run(ctx) {
    const n = sizes(ctx);
    ctx.log(`false-rollbacks: ${n.aaRuns} A/A rollouts of 30 min`);
    const out = aaEntries(n.aaRuns, aaStudy(n.aaRuns));
    for (const rps of n.rps) {
      for (const ratio of [2, 5]) {
        ctx.log(`false-rollbacks: power ${ratio}x at ${rps} rps, ${n.powerRuns} runs`);
        out.push(...powerEntries(ratio, rps, powerStudy(ratio, rps, n.powerRuns), n.powerRuns));
      }
    }
    return out;
  },
};
