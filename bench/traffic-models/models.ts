/**
 * The traffic shapes of the decision-quality study (issue 18): each an A/A world (canary identical
 * to stable) with the checks it is judged by, plus regressions for detection times.
 */

import type { AnalysisCheck } from "../../controller/spec/schema.js";
import type { Schedule } from "./drive.js";
import type { WorldSpec } from "./world.js";

/** The default check: failure rate at most 1% and no worse than stable. */
export const FAILURE_CHECK: AnalysisCheck = { name: "failure-rate", failureRate: { max: 1, maxIncrease: 0 } };
/** p99 at most 1.2 × stable's p99 before the step. */
export const P99_CHECK: AnalysisCheck = { name: "p99", latency: { quantile: 0.99, maxRatio: 1.2 } };
/** p50 at most 1.2 × stable's p50 before the step. */
export const P50_CHECK: AnalysisCheck = { name: "p50", latency: { quantile: 0.5, maxRatio: 1.2 } };

/** One traffic model: how a run's world is drawn, and what judges it. */
export interface TrafficModel {
  name: string;
  /** What it represents. */
  about: string;
  world: (draw: () => number) => WorldSpec;
  checks: AnalysisCheck[];
  /** Flagger-style p99 ceiling for latency models, ms. */
  flaggerP99Ms?: number;
}

function logUniform(draw: () => number, lo: number, hi: number): number {
  return lo * (hi / lo) ** draw();
}

const LATENCY = { medianMs: 40, sigma: 0.6, gcPerPodPerSecond: 0.02, gcMs: 400, gcShare: 0.3 };

/** Tokens per answer: the response metric of the heavy-user models. */
const TOKENS = "llm-total-tokens";
/** Tokens mean per request at most 1.2 × stable's on the same traffic. */
export const TOKENS_MEAN_CHECK: AnalysisCheck = {
  name: "tokens-mean",
  metric: { name: TOKENS, maxMeanRatio: 1.2 },
};
/** Tokens per request: the canary's above 1.2 × stable's pre-step mean against stable's above it. */
export const TOKENS_TAIL_CHECK: AnalysisCheck = {
  name: "tokens-tail",
  metric: { name: TOKENS, maxRatio: 1.2 },
};

/** 2,000 sticky users alike at 100–1,500 rps, with GC-paused log-normal latency. */
function busyStickyLatency(d: () => number): WorldSpec {
  return {
    rps: logUniform(d, 100, 1500),
    baseFailure: 0.002,
    stablePods: 10,
    users: { count: 2000, badShare: 0, badFailure: 0 },
    latency: LATENCY,
  };
}

/** Sticky users with log-normal answer lengths (median 300 tokens, σ 0.8), a few asking for far longer ones. */
function heavyTokenUsers(d: () => number): WorldSpec {
  return {
    rps: logUniform(d, 20, 300),
    baseFailure: 0.002,
    stablePods: 10,
    users: { count: 2000, badShare: 0, badFailure: 0 },
    userClasses: [{ share: logUniform(d, 0.01, 0.05), metricFactor: logUniform(d, 3, 10) }],
    metric: { name: TOKENS, median: 300, sigma: 0.8 },
  };
}

/** The A/A models; every draw is from the run's own seed. */
export const MODELS: TrafficModel[] = [
  {
    name: "independent",
    about: "every request an independent draw (the old benchmark)",
    world: (d) => ({
      rps: logUniform(d, 20, 1000),
      baseFailure: logUniform(d, 0.001, 0.005),
      stablePods: 10,
    }),
    checks: [FAILURE_CHECK],
  },
  {
    name: "sticky-users",
    about: "2,000 sticky users (real hash), 1% of them fail 20% of their requests",
    world: (d) => ({
      rps: logUniform(d, 50, 500),
      baseFailure: 0.001,
      stablePods: 10,
      users: { count: 2000, badShare: 0.01, badFailure: 0.2 },
    }),
    checks: [FAILURE_CHECK],
  },
  {
    name: "retries",
    about: "each failure retried next second by its user; a retry fails 60% of the time",
    world: (d) => ({
      rps: logUniform(d, 20, 1000),
      baseFailure: logUniform(d, 0.001, 0.005),
      stablePods: 10,
      retries: { failure: 0.6 },
    }),
    checks: [FAILURE_CHECK],
  },
  {
    name: "pod-bursts",
    about: "each pod fails 20% of its requests for ~10 s about every 10 min",
    world: (d) => ({
      rps: logUniform(d, 20, 1000),
      baseFailure: 0.002,
      stablePods: 10,
      podBursts: { perPodPerSecond: 1 / 600, meanSeconds: 10, failure: 0.2 },
    }),
    checks: [FAILURE_CHECK],
  },
  {
    name: "shared-incidents",
    about: "incidents hitting both variants (8x failures for ~30 s every ~5 min) and a diurnal swing of ±50%",
    world: (d) => ({
      rps: logUniform(d, 20, 1000),
      baseFailure: 0.003,
      stablePods: 10,
      shared: {
        burstPerSecond: 1 / 300,
        meanSeconds: 30,
        multiplier: 8,
        diurnalAmplitude: 0.5,
        periodSeconds: 1200,
      },
    }),
    checks: [FAILURE_CHECK],
  },
  {
    name: "gc-latency",
    about: "log-normal latency (σ 0.6) with 400 ms GC pauses on single pods, p99 ≤ 1.2 × stable",
    world: (d) => ({ rps: logUniform(d, 20, 300), baseFailure: 0.002, stablePods: 10, latency: LATENCY }),
    checks: [P99_CHECK],
    flaggerP99Ms: 500,
  },
  {
    name: "three-checks",
    about: "retries + pod bursts + GC latency, judged by failure rate, p99 and p50 at once",
    world: (d) => ({
      rps: logUniform(d, 20, 300),
      baseFailure: logUniform(d, 0.001, 0.005),
      stablePods: 10,
      retries: { failure: 0.6 },
      podBursts: { perPodPerSecond: 1 / 600, meanSeconds: 10, failure: 0.2 },
      latency: LATENCY,
    }),
    checks: [FAILURE_CHECK, P99_CHECK, P50_CHECK],
    flaggerP99Ms: 500,
  },
  {
    name: "sticky-slow-users",
    about:
      "2,000 sticky users at 100–1,500 rps, 1–5% of them 2–8x slower (big accounts), GC pauses; p99 ≤ 1.2 × stable",
    world: (d) => ({
      ...busyStickyLatency(d),
      userClasses: [{ share: logUniform(d, 0.01, 0.05), latencyFactor: logUniform(d, 2, 8) }],
    }),
    checks: [P99_CHECK],
    flaggerP99Ms: 500,
  },
  {
    name: "sticky-heavy-users-mean",
    about:
      "2,000 sticky users, 1–5% of them ask for 3–10x longer answers; tokens mean ≤ 1.2 × stable (maxMeanRatio)",
    world: (d) => heavyTokenUsers(d),
    checks: [TOKENS_MEAN_CHECK],
  },
  {
    name: "sticky-heavy-users-tail",
    about: "as sticky-heavy-users-mean; tokens per request vs 1.2 × stable's pre-step mean (metric maxRatio)",
    world: (d) => heavyTokenUsers(d),
    checks: [TOKENS_TAIL_CHECK],
  },
  {
    name: "gc-latency-busy",
    about:
      "sticky-slow-users without the slow users (2,000 users alike, 100–1,500 rps, GC pauses): its control",
    world: busyStickyLatency,
    checks: [P99_CHECK],
    flaggerP99Ms: 500,
  },
];

/** The A/A rollout: 2 min stable-only, then 1% → 50% in five 3-minute steps. */
export const AA_SCHEDULE: Schedule = {
  warmupSeconds: 120,
  weights: [0.01, 0.05, 0.1, 0.25, 0.5],
  stepSeconds: 180,
};

/** A regression to detect: a model, a fault and when it starts. */
export interface FaultCase {
  name: string;
  model: TrafficModel;
  failureMultiplier?: number;
  addLatencyMs?: number;
  onsetSecond: number;
}

const byName = (n: string) => MODELS.find((m) => m.name === n)!;

/** Detection cases at 100 canary rps (1,000 rps, one 10% step of 30 min; onset counted from the step). */
export const FAULTS: FaultCase[] = [
  { name: "independent 5x", model: byName("independent"), failureMultiplier: 5, onsetSecond: 0 },
  { name: "independent 2x", model: byName("independent"), failureMultiplier: 2, onsetSecond: 0 },
  { name: "late onset 5x at 5 min", model: byName("independent"), failureMultiplier: 5, onsetSecond: 300 },
  { name: "late onset 5x at 20 min", model: byName("independent"), failureMultiplier: 5, onsetSecond: 1200 },
  { name: "retries 5x", model: byName("retries"), failureMultiplier: 5, onsetSecond: 0 },
  { name: "pod-bursts 5x", model: byName("pod-bursts"), failureMultiplier: 5, onsetSecond: 0 },
  { name: "sticky-users 5x", model: byName("sticky-users"), failureMultiplier: 5, onsetSecond: 0 },
  { name: "sticky-users 2x", model: byName("sticky-users"), failureMultiplier: 2, onsetSecond: 0 },
  { name: "gc-latency +100 ms", model: byName("gc-latency"), addLatencyMs: 100, onsetSecond: 0 },
];

/** The detection rollout: 2 min stable-only, then one 10% step of 30 min. */
export const DETECT_SCHEDULE: Schedule = { warmupSeconds: 120, weights: [0.1], stepSeconds: 1800 };
