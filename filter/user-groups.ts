// Per-user-group tallies (docs/statistics.md "User groups as the unit"): each (canary, variant)
// tally also counts requests and failures per user group, so the controller can test with groups
// of users, not requests, as the independent units. The group of a sticky user is the top 5 bits of
// the mixed sticky hash the variant was chosen from (its bucket is the same hash mod 10,000), so a
// user's group is fixed and independent of its variant; a request without a sticky key is its own
// unit and goes to the group of a per-VM request counter. Pinned requests were not randomised and
// are in no group. Pure AssemblyScript; 64 counters per tally, allocated on its first grouped request.

import { VariantTotalsData } from "./wire";

/** Number of user groups (controller/telemetry/user-groups.ts USER_GROUPS). */
export const USER_GROUPS: i32 = 32;
/** The group is the mixed hash's top bits. */
const GROUP_SHIFT: u32 = 27;

/** The user group the last decision put its request in, or -1 (pinned: in none). */
let decided: i32 = -1;
let counter: u32 = 0;

/** Records the group of a sticky decision from its mixed hash (the one the bucket was taken from). */
@inline
export function decideStickyGroup(mixed: u32): void {
  decided = <i32>(mixed >>> GROUP_SHIFT);
}

/** Records the group of a request without a sticky key: the next value of the request counter. */
@inline
export function decideCounterGroup(): void {
  decided = <i32>(counter++ & <u32>(USER_GROUPS - 1));
}

/** Records that the request was pinned: it belongs to no group. */
@inline
export function decideNoGroup(): void {
  decided = -1;
}

/** The group of the last decision (read right after deciding, by the stream that made it). */
export function decidedGroup(): i32 {
  return decided;
}

/** Adds one request (and whether it failed) to group `g` of `t`. */
export function tallyUserGroup(t: VariantTotalsData, g: i32, failed: bool): void {
  if (g < 0 || g >= USER_GROUPS) return;
  if (t.groupRequests.length == 0) {
    t.groupRequests = new Array<u64>(USER_GROUPS);
    t.groupFailures = new Array<u64>(USER_GROUPS);
  }
  unchecked(t.groupRequests[g]++);
  if (failed) unchecked(t.groupFailures[g]++);
}

/** into += from, group by group. */
export function addUserGroups(into: VariantTotalsData, from: VariantTotalsData): void {
  if (from.groupRequests.length != USER_GROUPS) return;
  if (into.groupRequests.length == 0) {
    into.groupRequests = new Array<u64>(USER_GROUPS);
    into.groupFailures = new Array<u64>(USER_GROUPS);
  }
  for (let g = 0; g < USER_GROUPS; g++) {
    unchecked((into.groupRequests[g] += from.groupRequests[g]));
    unchecked((into.groupFailures[g] += from.groupFailures[g]));
  }
}

/** Zeroes the groups in place. */
export function clearUserGroups(t: VariantTotalsData): void {
  for (let g = 0; g < t.groupRequests.length; g++) {
    unchecked((t.groupRequests[g] = 0));
    unchecked((t.groupFailures[g] = 0));
  }
}

/** Sets group `g`'s cumulative counts (decoding a stored or test report); out-of-range groups are ignored. */
export function setUserGroup(t: VariantTotalsData, g: u32, requests: u64, failures: u64): void {
  if (g >= <u32>USER_GROUPS) return;
  if (t.groupRequests.length == 0) {
    t.groupRequests = new Array<u64>(USER_GROUPS);
    t.groupFailures = new Array<u64>(USER_GROUPS);
  }
  t.groupRequests[g] = requests;
  t.groupFailures[g] = failures;
}
