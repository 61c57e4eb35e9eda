/**
 * Seeded traffic simulation for tests and benchmarks: per-second Poisson request counts split
 * between stable and canary by a weight schedule, binomial failures per arm, optional log-normal
 * latencies and response metrics recorded into sketches. Pure and deterministic for a seed.
 */

import type { CountWindow } from "./eprocess.js";
import { emptySketch, record } from "../telemetry/sketch.js";
import type { MetricStats, VariantStats, WindowPoint } from "../telemetry/types.js";
import { countStats } from "../telemetry/windows.js";

/** A uniform random number generator on [0, 1). */
export type Rng = () => number;

/** mulberry32: tiny, fast, good enough for simulation; deterministic per seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal (Box–Muller). */
export function normal(rng: Rng): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Above this mean, counts use a (rounded) normal approximation instead of exact inversion. */
const EXACT_MEAN_LIMIT = 200;

/** Poisson(mean): exact by inversion for small means, normal approximation for large ones. */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean >= EXACT_MEAN_LIMIT) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rng)));
  let k = 0;
  let pmf = Math.exp(-mean);
  let cdf = pmf;
  const u = rng();
  while (u > cdf && pmf > 0) {
    k++;
    pmf *= mean / k;
    cdf += pmf;
  }
  return k;
}

/** Binomial(n, p): exact by inversion when n·min(p, 1−p) is small, normal approximation otherwise. */
export function binomial(rng: Rng, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  const mean = n * p;
  if (mean >= EXACT_MEAN_LIMIT) {
    const k = Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(rng));
    return Math.min(n, Math.max(0, k));
  }
  let k = 0;
  let pmf = (1 - p) ** n;
  let cdf = pmf;
  const u = rng();
  const odds = p / (1 - p);
  while (u > cdf && k < n) {
    pmf *= ((n - k) / (k + 1)) * odds;
    k++;
    cdf += pmf;
  }
  return k;
}

/** Log-normal distribution by its median and log-space standard deviation. */
export interface LogNormal {
  median: number;
  sigma: number;
}

/** How one arm behaves. */
export interface ArmSpec {
  /** Per-request failure probability. */
  failureRate: number;
  /** Request latency in milliseconds (omit for empty latency sketches). */
  latencyMs?: LogNormal;
  /** Response metrics per request, by name. */
  metrics?: Record<string, LogNormal>;
}

/** One weight change: from `atSecond` on, the canary gets `canaryWeight` (0..1) of requests. */
export interface WeightStep {
  atSecond: number;
  canaryWeight: number;
}

/** A simulated run. */
export interface TrafficSpec {
  seed: number;
  seconds: number;
  /** Mean requests per second over both arms. */
  rps: number;
  /** Weight steps, sorted by atSecond; before the first, the canary gets nothing. */
  schedule: WeightStep[];
  stable: ArmSpec;
  canary: ArmSpec;
  /** Start of the first window (default 0). */
  startMs?: number;
}

/** Variant names used in simulated windows. */
export const SIM_STABLE = "stable";
export const SIM_CANARY = "canary";

/** The canary weight in force at second t. */
export function weightAt(schedule: readonly WeightStep[], t: number): number {
  let w = 0;
  for (const step of schedule) if (step.atSecond <= t) w = step.canaryWeight;
  return w;
}

/** Failure counts only (fast path for large simulation studies). */
export function simulateCounts(spec: TrafficSpec): CountWindow[] {
  const rng = mulberry32(spec.seed);
  const out: CountWindow[] = [];
  for (let t = 0; t < spec.seconds; t++) {
    const n = poisson(rng, spec.rps);
    const canaryRequests = binomial(rng, n, weightAt(spec.schedule, t));
    const stableRequests = n - canaryRequests;
    out.push({
      canaryRequests,
      stableRequests,
      canaryEvents: binomial(rng, canaryRequests, spec.canary.failureRate),
      stableEvents: binomial(rng, stableRequests, spec.stable.failureRate),
    });
  }
  return out;
}

function metricStats(rng: Rng, n: number, d: LogNormal): MetricStats {
  const sketch = emptySketch();
  for (let i = 0; i < n; i++) record(sketch, d.median * Math.exp(d.sigma * normal(rng)));
  return { count: n, sum: sketch.sum, sketch };
}

function variantStats(rng: Rng, requests: number, arm: ArmSpec): VariantStats {
  const failures = binomial(rng, requests, arm.failureRate);
  const latencyUs = emptySketch();
  if (arm.latencyMs) {
    const { median, sigma } = arm.latencyMs;
    for (let i = 0; i < requests; i++) record(latencyUs, 1000 * median * Math.exp(sigma * normal(rng)));
  }
  const metrics = new Map<string, MetricStats>();
  for (const [name, d] of Object.entries(arm.metrics ?? {})) metrics.set(name, metricStats(rng, requests, d));
  return countStats(requests, failures, latencyUs, metrics);
}

/** Full windows as the telemetry layer produces them; windows with no requests are omitted. */
export function simulateWindows(spec: TrafficSpec): WindowPoint[] {
  const rng = mulberry32(spec.seed);
  const out: WindowPoint[] = [];
  for (let t = 0; t < spec.seconds; t++) {
    const n = poisson(rng, spec.rps);
    const canaryRequests = binomial(rng, n, weightAt(spec.schedule, t));
    const variants = new Map<string, VariantStats>();
    if (n - canaryRequests > 0) variants.set(SIM_STABLE, variantStats(rng, n - canaryRequests, spec.stable));
    if (canaryRequests > 0) variants.set(SIM_CANARY, variantStats(rng, canaryRequests, spec.canary));
    if (variants.size > 0) out.push({ startMs: (spec.startMs ?? 0) + 1000 * t, variants });
  }
  return out;
}
