/**
 * Sample-ratio check: does the canary's realised share of requests match its weight? A share far
 * outside the weight means routing or counting is broken, and then no verdict can be trusted.
 * Requests are not independent (sticky users differ in how much they send), so the null is a band
 * rather than the exact weight: "the canary's request odds lie within a factor of two of the
 * weight's". Each request is an event in the count e-process of eprocess.ts with the weight as the
 * expected share; a departure beyond the band at the test's α flags a mismatch.
 */

import type { WindowPoint } from "../telemetry/types.js";
import {
  type CountTestState,
  createCountTest,
  eValue,
  failTestConfig,
  passTestConfig,
  update,
} from "./eprocess.js";

/** The band: odds more than BAND times (or less than 1/BAND of) the weight's are a mismatch. */
export const BAND = 2;

/** State of the check for one weight (plain JSON). */
export interface SampleRatioState {
  weight: number;
  high: CountTestState;
  low: CountTestState;
  canaryRequests: number;
  requests: number;
}

function fresh(weight: number): SampleRatioState {
  const high = createCountTest(failTestConfig(BAND));
  const low = createCountTest(passTestConfig(1 / BAND));
  if (high instanceof Error || low instanceof Error) throw new Error("invalid sample-ratio band");
  return { weight, high, low, canaryRequests: 0, requests: 0 };
}

/** The state after the windows (time order), for a canary at `weight` (strictly between 0 and 1). */
export function observeSampleRatio(
  previous: SampleRatioState | undefined,
  weight: number,
  windows: readonly WindowPoint[],
  variants: { canary: string; stable: string },
): SampleRatioState {
  let s = previous?.weight === weight && previous.high?.logLR ? previous : fresh(weight);
  for (const w of windows) {
    const c = w.variants.get(variants.canary)?.requests ?? 0;
    const n = c + (w.variants.get(variants.stable)?.requests ?? 0);
    if (n <= 0) continue;
    // The weight plays the traffic share, each request an event: q(θ) is the share at odds ratio θ.
    const cw = { canaryRequests: weight, stableRequests: 1 - weight, canaryEvents: c, stableEvents: n - c };
    s = {
      ...s,
      high: update(s.high, cw),
      low: update(s.low, cw),
      canaryRequests: s.canaryRequests + c,
      requests: s.requests + n,
    };
  }
  return s;
}

/** Why the share mismatches the weight, or undefined while it does not (beyond chance at α). */
export function sampleRatioMismatch(s: SampleRatioState, alpha: number): string | undefined {
  const pct = (x: number) => `${(100 * x).toPrecision(3)}%`;
  const share = s.requests > 0 ? s.canaryRequests / s.requests : 0;
  const seen = `canary ${s.canaryRequests} of ${s.requests} requests (${pct(share)}) at weight ${pct(s.weight)}`;
  if (eValue(s.high) >= 1 / alpha) return `${seen}: more than ${BAND}x the weight's odds beyond chance`;
  if (eValue(s.low) >= 1 / alpha) return `${seen}: less than 1/${BAND} of the weight's odds beyond chance`;
  return undefined;
}
