/**
 * The sequential tests the conditions are built from: block betting for every test that can roll
 * back, and the count e-process for the pass side of "canary rate ≤ θ × stable rate".
 */

import { type BetState, createBet, type Direction, observeBet } from "./betting.js";
import {
  type CountTestState,
  type CountWindow,
  createCountTest,
  passTestConfig,
  update,
} from "./eprocess.js";

/** How far past the fail boundary θ0 the pass test's null sits (θ1 = PASS_MARGIN × θ0). */
export const PASS_MARGIN = 1.5;
/** A fresh wealth starts about this often, for late onsets. */
export const RESTART_MS = 30_000;

/** A fresh block betting test with blocks of `blockMs` (0: per event, restarting every 30 windows). */
export function bet(direction: Direction, blockMs: number): BetState {
  return createBet(direction, blockMs, Math.max(1, Math.round(RESTART_MS / (blockMs || 1000))));
}

/** A fresh count pass test of "canary ≤ PASS_MARGIN × θ0 × stable". */
export function freshPass(theta0: number): CountTestState {
  const pass = createCountTest(passTestConfig(theta0 * PASS_MARGIN));
  if (pass instanceof Error) throw new Error(`invalid theta0 ${theta0}`);
  return pass;
}

/** The canary's share of events a rate ratio θ allows when it has share s of the requests. */
export function nullShare(theta: number, s: number): number {
  return (theta * s) / (theta * s + 1 - s);
}

/** The fail (block betting) and pass (count) tests of "canary ≤ θ0 × stable" after one window. */
export function relativeStep(
  t: { fail: BetState; pass: CountTestState },
  cw: CountWindow,
  startMs: number,
  theta0: number,
): { fail: BetState; pass: CountTestState } {
  const f = cw.canaryEvents + cw.stableEvents;
  if (f <= 0 || cw.canaryRequests <= 0 || cw.stableRequests <= 0) return { fail: t.fail, pass: t.pass };
  const share = cw.canaryRequests / (cw.canaryRequests + cw.stableRequests);
  const q = nullShare(theta0, share);
  return {
    fail: observeBet(t.fail, { startMs, num: cw.canaryEvents, den: f, q }),
    pass: update(t.pass, cw),
  };
}
