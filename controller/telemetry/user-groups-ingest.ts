/**
 * Cumulative user-group tallies (VariantTotals.user_groups) -> deltas, entry by entry: a bad group
 * entry is dropped and reported, the entry's other groups and the rest of the Report are used, and
 * the dropped group keeps its last good totals. A Report without groups (a filter from before them)
 * adds none: its traffic is simply not in the user-group test, which then rests on the reporters
 * that send groups, or, with none, leaves the block test to decide alone (docs/statistics.md).
 */
import type { UserGroupTotals, VariantTotals } from "../gen/meshcanary/v1/telemetry_pb.js";
import type { Violation } from "./bounds.js";
import type { VariantStats } from "./types.js";
import { emptyUserGroups, USER_GROUPS, type UserGroupStats } from "./user-groups.js";

/** Cumulative per-group requests and failures as last received. */
export type LastUserGroups = UserGroupStats;

/** Which entries of a repeated field are usable (a bitmask), and the others' violations. */
export interface EntryCheck {
  usable: number;
  dropped: Violation[];
}

/** The check of a field with no entries. */
export const NO_ENTRIES: EntryCheck = Object.freeze({ usable: 0, dropped: [] as Violation[] });

/** The usable group entries of one totals entry (bit g: the first entry of group g), and the others' violations. */
export type UserGroupCheck = EntryCheck;

function violation(reason: string, i: number, field: string, value: string): Violation {
  return { reason, field: `user_groups[${i}].${field}`, value };
}

/**
 * Checks `t`'s user groups against the last totals: a group index outside 0..31, a repeated group,
 * a count going backwards, more failures than requests in the change, or more requests in the
 * change than the whole entry's change are each dropped with the reason; more than 32 entries drop
 * them all.
 */
export function checkUserGroups(
  t: VariantTotals,
  last: LastUserGroups | undefined,
  requestsDelta: number,
): UserGroupCheck {
  if (t.userGroups.length === 0) return NO_ENTRIES;
  if (t.userGroups.length > USER_GROUPS) {
    // One violation, not one per entry: a hostile peer's thousands of entries cost one log line.
    const v = {
      reason: "bad_user_group",
      field: "user_groups",
      value: `${t.userGroups.length} entries (at most ${USER_GROUPS})`,
    };
    return { usable: 0, dropped: [v] };
  }
  let usable = 0;
  let seen = 0;
  const dropped: Violation[] = [];
  t.userGroups.forEach((e, i) => {
    const problem = groupProblem(e, i, last, requestsDelta, seen);
    if (e.group < USER_GROUPS && !hasBit(seen, e.group)) seen += 2 ** e.group;
    if (problem) dropped.push(problem);
    else usable += 2 ** e.group;
  });
  return { usable, dropped };
}

/** Whether bit `g` of a usable-entries mask is set (masks go past 2^31, so no bitwise operators). */
export function hasBit(mask: number, g: number): boolean {
  return Math.floor(mask / 2 ** g) % 2 === 1;
}

/** Why group entry `e` (the i-th) cannot be used, or null; `seen` marks the groups before it. */
function groupProblem(
  e: UserGroupTotals,
  i: number,
  last: LastUserGroups | undefined,
  requestsDelta: number,
  seen: number,
): Violation | null {
  const g = e.group;
  if (g >= USER_GROUPS) return violation("bad_user_group", i, "group", `${g}`);
  if (hasBit(seen, g)) return violation("bad_user_group", i, "group", `${g} repeated`);
  const requests = Number(e.requests) - (last?.requests[g] ?? 0);
  const failures = Number(e.failures) - (last?.failures[g] ?? 0);
  if (requests < 0) return violation("counter_backwards", i, "requests", `group ${g}`);
  if (failures < 0) return violation("counter_backwards", i, "failures", `group ${g}`);
  if (failures > requests) return violation("impossible_counts", i, "failures", `group ${g}`);
  if (requests > requestsDelta) return violation("impossible_counts", i, "requests", `group ${g}`);
  return null;
}

function isUsable(check: UserGroupCheck, g: number): boolean {
  return g < USER_GROUPS && hasBit(check.usable, g);
}

/** into.userGroups += the usable groups' change (each group's first entry only). */
export function addUserGroupDeltas(
  into: VariantStats,
  t: VariantTotals,
  last: LastUserGroups | undefined,
  check: UserGroupCheck,
): void {
  let done = 0;
  for (const e of t.userGroups) {
    const g = e.group;
    if (!isUsable(check, g) || hasBit(done, g)) continue;
    done += 2 ** g;
    into.userGroups ??= emptyUserGroups();
    into.userGroups.requests[g]! += Number(e.requests) - (last?.requests[g] ?? 0);
    into.userGroups.failures[g]! += Number(e.failures) - (last?.failures[g] ?? 0);
  }
}

/** The last totals after `t`: usable groups take its counts, dropped ones keep theirs. */
export function overwriteUserGroups(
  last: LastUserGroups | undefined,
  t: VariantTotals,
  check: UserGroupCheck,
): LastUserGroups | undefined {
  if (check.usable === 0) return last;
  const out = last ?? emptyUserGroups();
  let done = 0;
  for (const e of t.userGroups) {
    const g = e.group;
    if (!isUsable(check, g) || hasBit(done, g)) continue;
    done += 2 ** g;
    out.requests[g] = Number(e.requests);
    out.failures[g] = Number(e.failures);
  }
  return out;
}
