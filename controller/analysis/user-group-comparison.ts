/**
 * How a failure-rate comparison uses the user-group test (user-group-test.ts): the comparison
 * fails only when both its block test (valid when clusters are short: retries, pod bursts, pauses)
 * and its user-group test (valid when they persist: sticky users) reject. Under any traffic where
 * one of the two is valid, the false-rollback rate is at most α, since both rejecting is contained in
 * each one rejecting. Without group tallies (filters from before them, or no weight known) the block
 * test decides alone, as before.
 * Once the block test has crossed 1/α in a step, the crossing is kept for the rest of the step (the
 * latch, as the block test's peak): a later user-group rejection fails the comparison even if the
 * block e-process has fallen back meanwhile, as it can while sticky users slow the group test down.
 * The rule then fails only if the block test ever crossed in the step and the group test ever
 * rejected in it, each at most α likely under the null its own argument covers (Ville; Markov for
 * the non-decreasing look sum), so the bound above holds as before (docs/statistics.md, "The block
 * crossing is latched within a step").
 */

import type { VariantStats, WindowPoint } from "../telemetry/types.js";
import { type BetState, betEValue } from "./betting.js";
import type { Variants } from "./checks.js";
import type { ComparisonState } from "./comparison-condition.js";
import { nullShare } from "./condition-tests.js";
import { fmtE } from "./reason-format.js";
import { thresholdKeyUs } from "./slow-thresholds.js";
import type { Condition } from "./conditions.js";
import {
  createGroupTest,
  type GroupTestState,
  type GroupWindow,
  groupTestRejects,
  observeGroupTest,
} from "./user-group-test.js";

/** What a comparison needs for its user-group test. */
export interface UserGroupComparison {
  /** The window's failures per user group of each arm, or undefined when it carries none. */
  extract: (w: WindowPoint) => GroupWindow | undefined;
  /** The canary's weight in force (0..1): the chance a user (or an unkeyed request) is sent to it. */
  weight?: number;
}

/** The failures per user group of a failure-rate comparison's arms. */
export function failureGroups(v: Variants): UserGroupComparison {
  return {
    extract: (w) => {
      const canary = w.variants.get(v.canary)?.userGroups;
      const stable = w.variants.get(v.stable)?.userGroups;
      if (!canary && !stable) return undefined;
      const none = { requests: [], failures: [] };
      return { startMs: w.startMs, canary: canary ?? none, stable: stable ?? none };
    },
  };
}

/**
 * The requests slower than each arm's threshold per user group, for a latency ratio comparison:
 * the canary's above r·T0 (`canaryUs`) against stable's above T0 (`stableUs`), as the filter tallies
 * them for the thresholds the directive sent (slow-thresholds.ts). A window is used only when each arm
 * either has counts at exactly its threshold or served no requests (none to count): windows from
 * before the thresholds were installed, or still counted at the previous step's, are left to the
 * block test. Which windows qualify depends on time and installation, not on which users a variant
 * serves, so the test stays valid on the windows it keeps.
 */
export function slowGroups(v: Variants, canaryUs: number, stableUs: number): UserGroupComparison {
  const counts = (s: VariantStats | undefined, us: number): number[] | undefined | null => {
    if (!s || s.requests === 0) return null;
    return s.userGroups?.slow?.get(thresholdKeyUs(us));
  };
  return {
    extract: (w) => {
      const canary = counts(w.variants.get(v.canary), canaryUs);
      const stable = counts(w.variants.get(v.stable), stableUs);
      if (canary === undefined || stable === undefined || (canary === null && stable === null))
        return undefined;
      const arm = (c: number[] | null) => ({ requests: [], failures: c ?? [] });
      return { startMs: w.startMs, canary: arm(canary), stable: arm(stable) };
    },
  };
}

/** The conditions with the weight given to every comparison that has a user-group test. */
export function withWeight(conditions: readonly Condition[], weight: number | undefined): Condition[] {
  return conditions.map((c) =>
    c.type === "comparison" && c.userGroups && weight !== undefined
      ? { ...c, userGroups: { ...c.userGroups, weight } }
      : c,
  );
}

/** The user-group test after one more window, as a patch of the comparison's state. */
export function userGroupStep(
  ug: UserGroupComparison | undefined,
  s: ComparisonState,
  w: WindowPoint,
): { groups?: GroupTestState } {
  if (ug?.weight === undefined || !(ug.weight > 0 && ug.weight < 1)) return {};
  const gw = ug.extract(w);
  if (!gw) return {};
  const groups = s.groups ?? createGroupTest(nullShare(s.theta0, ug.weight));
  return { groups: observeGroupTest(groups, gw) };
}

/**
 * The highest e-value a comparison's block test has reached in the step, and after how many blocks:
 * taken after every window and settle, so after every block that closes, whatever the evaluation
 * cadence (a resumed controller keeps the same peak as one that never stopped).
 */
export interface BlockPeak {
  /** The block e-value at its highest. */
  e: number;
  /** Blocks closed when it was reached. */
  blocks: number;
}

/** The peak after the block test's state `fail`: the previous one unless `fail`'s e-value is higher. */
export function peakOf(previous: BlockPeak | undefined, fail: BetState): BlockPeak {
  const e = betEValue(fail);
  return previous && previous.e >= e ? previous : { e, blocks: fail.blocks };
}

/** The part of a fail or hold reason that says the block test crossed earlier in the step. */
export function latchedReason(peak: BlockPeak, eNow: number, limit: string): string {
  return `the block test crossed earlier in the step: e=${fmtE(peak.e)} >= ${limit} after ${peak.blocks} block(s), now e=${fmtE(eNow)}`;
}

/** The verdict once the block test has crossed 1/α: fail only if the user-group test agrees. */
export function userGroupVerdict(
  groups: GroupTestState | undefined,
  alpha: number,
  failReason: string,
): { verdict: "fail" | "inconclusive"; reason: string } {
  if (!groups) return { verdict: "fail", reason: failReason };
  const e = `user-group e=${groups.eSum.toPrecision(3)} of ${(1 / alpha).toPrecision(3)} after ${groups.looks} look(s)`;
  if (groupTestRejects(groups, alpha)) return { verdict: "fail", reason: `${failReason}; ${e}` };
  return {
    verdict: "inconclusive",
    reason: `${failReason}; holding: not yet across user groups (${e}), so it may be a few users rather than the version`,
  };
}
