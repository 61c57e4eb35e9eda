/**
 * Per-user-group tallies (docs/statistics.md "User groups as the unit"): the filter tallies the
 * requests and failures of each variant per user group g = the sticky hash's top bits (an
 * independent part of the hash that picks the variant), or, without a sticky key, by request
 * counter. Users in different groups are assigned to variants independently, so the groups are the
 * independent units a failure-rate comparison can rest on when one user's requests are not.
 */

import { fmix32, fnv1a32 } from "../mesh/sticky-hash.js";

/** Number of user groups the filter tallies (filter/user-groups.ts USER_GROUPS). */
export const USER_GROUPS = 32;

/** Requests and failures per user group, indexed 0..USER_GROUPS−1 (deltas, like VariantStats). */
export interface UserGroupStats {
  requests: number[];
  failures: number[];
  /**
   * Per latency threshold in whole µs (analysis/slow-thresholds.ts), the requests slower than it
   * per user group; absent when the filter was asked for none.
   */
  slow?: Map<number, number[]>;
}

export function emptyUserGroups(): UserGroupStats {
  return {
    requests: new Array<number>(USER_GROUPS).fill(0),
    failures: new Array<number>(USER_GROUPS).fill(0),
  };
}

/** target += delta, in place. */
export function addUserGroups(target: UserGroupStats, delta: UserGroupStats): void {
  for (let g = 0; g < USER_GROUPS; g++) {
    target.requests[g]! += delta.requests[g] ?? 0;
    target.failures[g]! += delta.failures[g] ?? 0;
  }
  for (const [us, counts] of delta.slow ?? []) {
    target.slow ??= new Map();
    const into = target.slow.get(us) ?? new Array<number>(USER_GROUPS).fill(0);
    for (let g = 0; g < USER_GROUPS; g++) into[g]! += counts[g] ?? 0;
    target.slow.set(us, into);
  }
}

/** Bits of the mixed sticky hash that pick the group: the top ones (the bucket is the hash mod 10,000). */
export const USER_GROUP_SHIFT = 27;

/**
 * The user group of a sticky key: the top 5 bits of fmix32(fnv1a32(cohort + ":" + key)), whose
 * remainder mod 10,000 is the key's bucket; the TypeScript twin of filter/user-groups.ts. Each group
 * holds 2^27 hash values, 13,421 or 13,422 of each bucket, so the group is independent of the
 * variant to within 1e-4.
 */
export function stickyUserGroup(cohort: string, key: string): number {
  return fmix32(fnv1a32(`${cohort}:${key}`)) >>> USER_GROUP_SHIFT;
}
