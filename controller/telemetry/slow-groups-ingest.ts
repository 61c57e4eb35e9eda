/**
 * Cumulative slow counts (VariantTotals.slow: per latency threshold the Directive installed, the
 * requests slower than it per user group) -> deltas in VariantStats.userGroups.slow, threshold by
 * threshold: a bad threshold entry is dropped and reported, the entry's other thresholds and the
 * rest of the Report are used, and the dropped threshold keeps its last good counts. A threshold
 * the last Report did not carry was installed since (or reinstalled: the filter dropped its
 * counter when it left the table), so its whole count is the change, unless the stream's
 * baseline carried it; one a Report no longer carries is forgotten.
 */
import type { SlowTotals, VariantTotals } from "../gen/meshcanary/v1/telemetry_pb.js";
import { MAX_SLOW_THRESHOLDS } from "../analysis/slow-thresholds.js";
import type { Violation } from "./bounds.js";
import type { VariantStats } from "./types.js";
import { emptyUserGroups, USER_GROUPS } from "./user-groups.js";
import {
  type EntryCheck,
  hasBit,
  type LastUserGroups,
  NO_ENTRIES,
  type UserGroupCheck,
} from "./user-groups-ingest.js";

/** Per threshold (µs), the cumulative per-group counts as last received. */
export type LastSlow = Map<number, number[]>;

/** The usable entries of `slow` (bit i: entry i) and the others' violations. */
export type SlowCheck = EntryCheck;

function violation(reason: string, i: number, field: string, value: string): Violation {
  return { reason, field: `slow[${i}].${field}`, value };
}

/**
 * Checks `t`'s slow counts against the last ones: a threshold of 0 or above 2^53, a repeated
 * threshold, more than 32 groups, a count beyond 2^53, a count going backwards, or a group's count
 * growing more than that group's requests did (as the usable user-group entries say: `groups`, the
 * entry's checkUserGroups) each drop their threshold entry with the reason; more than 8 entries
 * drop them all.
 */
export function checkSlow(
  t: VariantTotals,
  lastGroups: LastUserGroups | undefined,
  groups: UserGroupCheck,
  last: LastSlow | undefined,
): SlowCheck {
  if (t.slow.length === 0) return NO_ENTRIES;
  if (t.slow.length > MAX_SLOW_THRESHOLDS) {
    const value = `${t.slow.length} entries (at most ${MAX_SLOW_THRESHOLDS})`;
    return { usable: 0, dropped: [{ reason: "bad_slow_threshold", field: "slow", value }] };
  }
  const grown = groupGrowth(t, lastGroups, groups);
  let usable = 0;
  const dropped: Violation[] = [];
  t.slow.forEach((e, i) => {
    const repeated = t.slow.findIndex((o) => o.thresholdUs === e.thresholdUs) < i;
    const problem = repeated
      ? violation("bad_slow_threshold", i, "threshold_us", `${e.thresholdUs} repeated`)
      : slowProblem(e, i, last?.get(Number(e.thresholdUs)), grown);
    if (problem) dropped.push(problem);
    else usable += 2 ** i;
  });
  return { usable, dropped };
}

const MAX_COUNT = BigInt(Number.MAX_SAFE_INTEGER);

/** Why entry `e` (the i-th) cannot be used, or null. */
function slowProblem(
  e: SlowTotals,
  i: number,
  before: readonly number[] | undefined,
  grown: readonly number[],
): Violation | null {
  const us = e.thresholdUs;
  if (us === 0n || us > MAX_COUNT) return violation("bad_slow_threshold", i, "threshold_us", `${us}`);
  if (e.byGroup.length > USER_GROUPS) {
    return violation(
      "bad_slow_threshold",
      i,
      "by_group",
      `${e.byGroup.length} groups (at most ${USER_GROUPS})`,
    );
  }
  for (let g = 0; g < e.byGroup.length; g++) {
    const n = e.byGroup[g]!;
    if (n > MAX_COUNT) return violation("counter_range", i, "by_group", `threshold ${us} group ${g}: ${n}`);
    const d = Number(n) - (before?.[g] ?? 0);
    if (d < 0) {
      return violation(
        "counter_backwards",
        i,
        "by_group",
        `threshold ${us} group ${g}: ${n} < ${before?.[g]}`,
      );
    }
    if (d > grown[g]!) {
      const value = `threshold ${us} group ${g}: +${d} slow > +${grown[g]} requests`;
      return violation("impossible_counts", i, "by_group", value);
    }
  }
  // A group the entry no longer carries went back to 0.
  for (let g = e.byGroup.length; g < USER_GROUPS; g++) {
    if ((before?.[g] ?? 0) > 0) {
      return violation("counter_backwards", i, "by_group", `threshold ${us} group ${g}: 0 < ${before?.[g]}`);
    }
  }
  return null;
}

/** Each group's requests since the last totals, from the usable user-group entries (0 for the others). */
function groupGrowth(
  t: VariantTotals,
  lastGroups: LastUserGroups | undefined,
  check: UserGroupCheck,
): number[] {
  const grown = new Array<number>(USER_GROUPS).fill(0);
  for (const e of t.userGroups) {
    const g = e.group;
    if (g >= USER_GROUPS || !hasBit(check.usable, g) || grown[g]! > 0) continue;
    grown[g] = Number(e.requests) - (lastGroups?.requests[g] ?? 0);
  }
  return grown;
}

/**
 * into.userGroups.slow += the usable entries' change; a usable threshold gets its key even when
 * nothing was slower (the filter counted it, and counted none).
 */
export function addSlowDeltas(
  into: VariantStats,
  t: VariantTotals,
  last: LastSlow | undefined,
  check: SlowCheck,
): void {
  t.slow.forEach((e, i) => {
    if (!hasBit(check.usable, i)) return;
    const us = Number(e.thresholdUs);
    const before = last?.get(us);
    into.userGroups ??= emptyUserGroups();
    into.userGroups.slow ??= new Map();
    const slow = into.userGroups.slow;
    let counts = slow.get(us);
    if (!counts) {
      counts = new Array<number>(USER_GROUPS).fill(0);
      slow.set(us, counts);
    }
    for (let g = 0; g < e.byGroup.length; g++) counts[g]! += Number(e.byGroup[g]) - (before?.[g] ?? 0);
  });
}

/**
 * The last counts after `t`: usable entries take its counts, dropped ones keep theirs, and the
 * thresholds `t` does not carry are forgotten (undefined when none is left); too many entries
 * change nothing.
 */
export function overwriteSlow(
  last: LastSlow | undefined,
  t: VariantTotals,
  check: SlowCheck,
): LastSlow | undefined {
  if (t.slow.length === 0) return undefined;
  if (t.slow.length > MAX_SLOW_THRESHOLDS) return last;
  const out: LastSlow = new Map();
  t.slow.forEach((e, i) => {
    const us = Number(e.thresholdUs);
    if (hasBit(check.usable, i)) {
      const counts = new Array<number>(USER_GROUPS).fill(0);
      for (let g = 0; g < e.byGroup.length; g++) counts[g] = Number(e.byGroup[g]);
      out.set(us, counts);
    } else {
      const kept = last?.get(us);
      if (kept && !out.has(us)) out.set(us, kept);
    }
  });
  return out.size > 0 ? out : undefined;
}
