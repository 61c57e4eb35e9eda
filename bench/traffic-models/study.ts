/**
 * The decision-quality study: A/A false-rollback rates with 95% intervals per traffic model, and
 * detection times of regressions, for meshcanary's analysis and a Flagger-style rule on the same data.
 */

import { mulberry32 } from "../../controller/analysis/simulate.js";
import { FLAGGER_LIKE, rolloutSpec, runRollout, type Schedule } from "./drive.js";
import { AA_SCHEDULE, DETECT_SCHEDULE, type FaultCase, type TrafficModel } from "./models.js";

/** Wilson score interval (95%) for k successes in n trials. */
export function wilson(k: number, n: number): { lower: number; upper: number } {
  if (n === 0) return { lower: 0, upper: 1 };
  const z = 1.959963984540054;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/** A/A figures of one model. */
export interface AaResult {
  model: string;
  runs: number;
  rollbacks: number;
  rate: number;
  lower: number;
  upper: number;
  flaggerRate: number;
  /** How many rollbacks each check caused. */
  byCheck: Record<string, number>;
  sampleRatioMismatchRuns: number;
}

function seedOf(model: string, i: number): number {
  let h = 0x9e3779b1;
  for (let c = 0; c < model.length; c++) h = Math.imul(h ^ model.charCodeAt(c), 0x85ebca6b);
  return (h ^ (i * 0x27d4eb2d)) >>> 0;
}

/**
 * `runs` A/A rollouts of a model through the controller's analysis, seeds `firstRun`.. on (so two
 * processes can share a long study: runs 0..499 and 500..999 give the seeds of one run of 1,000).
 */
export function aaStudy(
  model: TrafficModel,
  runs: number,
  schedule: Schedule = AA_SCHEDULE,
  firstRun = 0,
): AaResult {
  const spec = rolloutSpec(model.checks, schedule);
  const flagger = { ...FLAGGER_LIKE, ...(model.flaggerP99Ms ? { maxP99Ms: model.flaggerP99Ms } : {}) };
  let rollbacks = 0;
  let flagged = 0;
  let srm = 0;
  const byCheck: Record<string, number> = {};
  for (let i = firstRun; i < firstRun + runs; i++) {
    const seed = seedOf(model.name, i);
    const world = model.world(mulberry32(seed ^ 0x5eed));
    const r = runRollout(world, seed, spec, schedule, flagger);
    if (r.failAt !== null) {
      rollbacks++;
      for (const c of r.failedChecks) byCheck[c] = (byCheck[c] ?? 0) + 1;
    }
    if (r.flaggerAt !== null) flagged++;
    if (r.sampleRatioMismatch) srm++;
  }
  const ci = wilson(rollbacks, runs);
  return {
    model: model.name,
    runs,
    rollbacks,
    rate: rollbacks / runs,
    ...ci,
    flaggerRate: flagged / runs,
    byCheck,
    sampleRatioMismatchRuns: srm,
  };
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Detection figures of one fault case; seconds are counted from the onset. */
export interface DetectResult {
  name: string;
  runs: number;
  detected: number;
  medianSeconds: number;
  flaggerDetected: number;
  flaggerMedianSeconds: number;
}

/** Detection of a regression at 100 canary rps (1,000 rps at 10%), base failure rate 0.5%. */
export function detectStudy(c: FaultCase, runs: number, schedule: Schedule = DETECT_SCHEDULE): DetectResult {
  const spec = rolloutSpec(c.model.checks, schedule);
  const flagger = { ...FLAGGER_LIKE, ...(c.model.flaggerP99Ms ? { maxP99Ms: c.model.flaggerP99Ms } : {}) };
  const seconds: number[] = [];
  const flaggerSeconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const seed = seedOf(c.name, i);
    const base = c.model.world(mulberry32(seed ^ 0x5eed));
    const world = {
      ...base,
      rps: 1000,
      baseFailure: 0.005,
      fault: {
        onsetSecond: schedule.warmupSeconds + c.onsetSecond,
        failureMultiplier: c.failureMultiplier,
        addLatencyMs: c.addLatencyMs,
      },
    };
    const r = runRollout(world, seed, spec, schedule, flagger);
    if (r.failAt !== null && r.failAt > c.onsetSecond) seconds.push(r.failAt - c.onsetSecond);
    if (r.flaggerAt !== null && r.flaggerAt > c.onsetSecond) flaggerSeconds.push(r.flaggerAt - c.onsetSecond);
  }
  return {
    name: c.name,
    runs,
    detected: seconds.length / runs,
    medianSeconds: median(seconds),
    flaggerDetected: flaggerSeconds.length / runs,
    flaggerMedianSeconds: median(flaggerSeconds),
  };
}
