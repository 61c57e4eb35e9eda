/**
 * Sticky users per variant and user group at a weight, by the filter's own hash: which users (of each
 * kind and class) the canary serves, for the traffic world (world.ts).
 */

import { BUCKETS, stickyBucket } from "../../controller/mesh/sticky-hash.js";
import { stickyUserGroup, USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import type { UserClass, UserModel } from "./world.js";

/** Users of each kind in each user group, per variant; classes[k][g]: users of userClasses[k]. */
type UserCounts = Record<"stable" | "canary", { normal: number[]; bad: number[]; classes: number[][] }>;

/** The class of user i: classes follow the bad users by index, in order. */
function classOf(i: number, bad: number, count: number, classes: readonly UserClass[]): number | undefined {
  let from = bad;
  for (let k = 0; k < classes.length; k++) {
    from += Math.round(count * classes[k]!.share);
    if (i < from) return k;
  }
  return undefined;
}

/** Sticky share: which users the canary serves at a weight, and their user groups, by the filter's own hash. */
export function userShares(
  users: UserModel,
  cohort: string,
  weight: number,
  classes: readonly UserClass[] = [],
): UserCounts {
  const weightBp = Math.round(weight * BUCKETS);
  const bad = Math.round(users.count * users.badShare);
  const arm = () => ({
    normal: new Array<number>(USER_GROUPS).fill(0),
    bad: new Array<number>(USER_GROUPS).fill(0),
    classes: classes.map(() => new Array<number>(USER_GROUPS).fill(0)),
  });
  const out = { stable: arm(), canary: arm() };
  for (let i = 0; i < users.count; i++) {
    const key = `user-${i}`;
    const variant = stickyBucket(cohort, key) < BUCKETS - weightBp ? "stable" : "canary";
    const g = stickyUserGroup(cohort, key);
    const k = i < bad ? undefined : classOf(i, bad, users.count, classes);
    if (k !== undefined) out[variant].classes[k]![g]!++;
    else out[variant][i < bad ? "bad" : "normal"][g]++;
  }
  return out;
}
