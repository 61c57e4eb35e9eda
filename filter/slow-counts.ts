// Per-user-group counts of slow requests (docs/statistics.md "User groups as the unit"): for each
// latency threshold the controller installs on a route (Route.slow_thresholds: stable's pre-step
// quantile T0 for stable, r·T0 for the compared variant), each (canary, variant) tally counts per
// user group the requests slower than it. With sticky users a few slow users on the canary make its
// tail heavier for a whole step; counts per group, at the thresholds the latency check judges, let
// the controller test with groups of users rather than requests as the independent units.
// A threshold's counter lives while its route installs it: binding a table drops the others from
// this VM's deltas, and the report drops them from the proxy's totals (pruneSlow), so one installed
// again starts from 0. Pure AssemblyScript.

import { Route, RoutingTable } from "./config";
import { quote } from "./json";
import { USER_GROUPS } from "./user-groups";
import { ReportData, RouteData, SlowTotalsData, VariantTotalsData } from "./wire";

/** Most thresholds per route (controller/analysis/slow-thresholds.ts MAX_SLOW_THRESHOLDS). */
export const MAX_SLOW_THRESHOLDS: i32 = 8;
/**
 * Entries kept per tally: the proxy's totals may hold an old table's thresholds next to the new
 * one's until the next report prunes them (pruneSlow), which leaves at most 8.
 */
const MAX_STORED: i32 = 2 * MAX_SLOW_THRESHOLDS;
/** Largest threshold: whole µs a JS number carries exactly (and ×1000 still fits a u64). */
const MAX_THRESHOLD_US: u64 = 9007199254740991;

/**
 * Reads `d`'s thresholds into `r` (its variants already built). An entry naming no variant of the
 * route, a threshold outside 1..2^53−1, a repeated one, or one past the 8th is left out and named in
 * `problems` (with its path); the others apply. Returns how many entries were left out.
 */
export function buildSlowThresholds(d: RouteData, r: Route, p: string, problems: Array<string>): i32 {
  const list = d.slowThresholds;
  let ignored = 0;
  for (let i = 0; i < list.length; i++) {
    const sp = p + ".slowThresholds[" + i.toString() + "]";
    if (i >= MAX_SLOW_THRESHOLDS) {
      const extra = list.length - MAX_SLOW_THRESHOLDS;
      problems.push(p + ".slowThresholds: at most 8 entries, got " + list.length.toString() + "; " + extra.toString() + " ignored");
      return ignored + extra;
    }
    const t = list[i];
    const v = r.variantIndex(t.variant);
    if (v < 0) {
      problems.push(sp + ".variant: not a variant of the route, got " + quote(t.variant));
      ignored++;
      continue;
    }
    if (t.thresholdUs == 0 || t.thresholdUs > MAX_THRESHOLD_US) {
      problems.push(sp + ".thresholdUs: must be an integer 1..9007199254740991, got " + t.thresholdUs.toString());
      ignored++;
      continue;
    }
    if (slowIndex(r, v, t.thresholdUs) >= 0) {
      problems.push(sp + ": duplicate threshold " + t.thresholdUs.toString() + " for variant " + quote(t.variant));
      ignored++;
      continue;
    }
    r.slowVariants.push(v);
    r.slowUs.push(t.thresholdUs);
    r.slowNs.push(t.thresholdUs * 1000);
  }
  return ignored;
}

function slowIndex(r: Route, variant: i32, us: u64): i32 {
  for (let i = 0; i < r.slowUs.length; i++) {
    if (r.slowVariants[i] == variant && r.slowUs[i] == us) return i;
  }
  return -1;
}

/**
 * Points `t` (variant `v` of `route`) at one counter per installed threshold, keeping the counts of
 * those it already had and dropping the others, so the entries follow the table.
 */
export function bindSlow(route: Route, v: i32, t: VariantTotalsData): void {
  const kept = new Array<SlowTotalsData>();
  for (let i = 0; i < route.slowUs.length; i++) {
    if (route.slowVariants[i] != v) continue;
    const existing = slowEntry(t.slow, route.slowUs[i]);
    kept.push(existing != null ? existing : newSlow(route.slowUs[i]));
  }
  t.slow = kept;
}

/** Counts a request of variant `v` that took `durationNs` (-1: unknown) in group `g` (-1: none). */
export function tallySlow(t: VariantTotalsData, route: Route, v: i32, durationNs: i64, g: i32): void {
  if (g < 0 || g >= USER_GROUPS || durationNs < 0) return;
  const ns = <u64>durationNs;
  for (let i = 0; i < route.slowUs.length; i++) {
    if (unchecked(route.slowVariants[i]) != v || ns <= unchecked(route.slowNs[i])) continue;
    const e = slowEntry(t.slow, unchecked(route.slowUs[i]));
    if (e != null) unchecked(e.byGroup[g]++);
  }
}

function slowEntry(list: Array<SlowTotalsData>, us: u64): SlowTotalsData | null {
  for (let i = 0; i < list.length; i++) if (unchecked(list[i]).thresholdUs == us) return unchecked(list[i]);
  return null;
}

function newSlow(us: u64): SlowTotalsData {
  const e = new SlowTotalsData();
  e.thresholdUs = us;
  return e;
}

/** into.slow += from.slow, threshold by threshold (an entry of `from` is created in `into` even at 0). */
export function addSlow(into: VariantTotalsData, from: VariantTotalsData): void {
  for (let i = 0; i < from.slow.length; i++) {
    const f = from.slow[i];
    let e = slowEntry(into.slow, f.thresholdUs);
    if (e == null) {
      if (into.slow.length >= MAX_STORED) continue;
      e = newSlow(f.thresholdUs);
      into.slow.push(e);
    }
    const n = min(f.byGroup.length, USER_GROUPS);
    for (let g = 0; g < n; g++) unchecked((e.byGroup[g] += f.byGroup[g]));
  }
}

/** Zeroes the counts in place (the entries stay: their thresholds are installed). */
export function clearSlow(t: VariantTotalsData): void {
  for (let i = 0; i < t.slow.length; i++) {
    const counts = t.slow[i].byGroup;
    for (let g = 0; g < counts.length; g++) unchecked((counts[g] = 0));
  }
}

/** Sets an entry's cumulative counts (decoding a stored or test report); entries past the stored limit and groups past 31 ignored. */
export function setSlow(t: VariantTotalsData, us: u64, counts: Array<u64>): void {
  if (slowEntry(t.slow, us) != null || t.slow.length >= MAX_STORED) return;
  const e = newSlow(us);
  const n = min(counts.length, USER_GROUPS);
  for (let g = 0; g < n; g++) e.byGroup[g] = counts[g];
  t.slow.push(e);
}

/** Keys ("canary\nvariant\nµs") of the thresholds the applied table installs; null: no table yet. */
let installed: Set<string> | null = null;

/** Records the thresholds of the table requests are now decided on (see pruneSlow). */
export function slowRouted(table: RoutingTable): void {
  const keys = new Set<string>();
  for (let i = 0; i < table.routes.length; i++) {
    const route = table.routes[i];
    for (let k = 0; k < route.slowUs.length; k++) {
      keys.add(slowKey(route.canary, route.variants[route.slowVariants[k]], route.slowUs[k]));
    }
  }
  installed = keys;
}

function slowKey(canary: string, variant: string, us: u64): string {
  return canary + "\n" + variant + "\n" + us.toString();
}

/**
 * Drops from the proxy's totals the counts of thresholds the applied table no longer installs: the
 * report that leaves one out tells the controller it is gone, and one installed again counts from 0
 * (a worker flushing a late delta for it meanwhile only restarts it from a few, counted as new).
 */
export function pruneSlow(report: ReportData): void {
  if (installed == null) return;
  const keys = installed!;
  const totals = report.totals;
  for (let i = 0; i < totals.length; i++) {
    const t = totals[i];
    if (t.slow.length == 0) continue;
    const kept = new Array<SlowTotalsData>();
    for (let k = 0; k < t.slow.length; k++) {
      if (keys.has(slowKey(t.canary, t.variant, t.slow[k].thresholdUs))) kept.push(t.slow[k]);
    }
    if (kept.length != t.slow.length) t.slow = kept;
  }
}
