/**
 * Whether one totals entry's change from its last totals can be counted, and how a dropped one is
 * named. bounds.ts checks an entry on its own; only here, against what the same proxy instance
 * reported before, can counters going backwards or more failures than requests in the change be
 * seen, so these checks run per entry per Report and drop only that entry, never the Report.
 */
import type { Report, Sketch as WireSketch, VariantTotals } from "../gen/meshcanary/v1/telemetry_pb.js";
import type { Violation } from "./bounds.js";
import { COUNTERS, type LastSketch, type LastTotals } from "./last-totals.js";
import { checkSlow, type SlowCheck } from "./slow-groups-ingest.js";
import { checkUserGroups, type UserGroupCheck } from "./user-groups-ingest.js";

/** The checks of an entry's user-group and slow-count entries, against the last totals (before they take `t`'s). */
export interface GroupChecks {
  groups: UserGroupCheck;
  slow: SlowCheck;
}

/** Made once per entry: delta, overwrite and the violations all use the same checks. */
export function checkGroups(t: VariantTotals, last: LastTotals): GroupChecks {
  const groups = checkUserGroups(t, last.userGroups, Number(t.requests) - last.counters[0]!);
  return { groups, slow: checkSlow(t, last.userGroups, groups, last.slow) };
}

/** Violations of the totals entry `t`, named by its place in the Report and its canary and variant. */
export function named(report: Report, t: VariantTotals, drops: readonly Violation[]): Violation[] {
  const i = report.totals.indexOf(t);
  return drops.map((d) => ({
    ...d,
    field: `totals[${i}].${d.field}`,
    value: `${t.canary} ${t.variant}: ${d.value}`,
  }));
}

/**
 * Why the change from `last` to `t` cannot come from one proxy instance, or null: a cumulative count
 * going backwards (reason counter_backwards, field = its proto name), more failures (or latencies,
 * or metric values) than requests in the change (impossible_counts).
 *
 * A sum is no counter: the filter saturates it at ±MAX_VALUE, so a hostile upstream's values can
 * swing it from +MAX to -MAX between two reports, a change no double holds. Its change is added
 * saturated too (addDelta); dropping the entry instead lost its requests for as long as the swing
 * held (test/mesh-e2e: 20 reports of c-000 in a row).
 */
export function implausibleChange(t: VariantTotals, last: LastTotals): Violation | null {
  return backwards(t, last) ?? beyondRequests(t, last);
}

/** The first cumulative count of `t` below `last`'s (a metric `t` no longer carries went back to 0). */
function backwards(t: VariantTotals, last: LastTotals): Violation | null {
  for (let j = 0; j < COUNTERS.length; j++) {
    if (Number(t[COUNTERS[j]![0]]) < last.counters[j]!) return change("counter_backwards", COUNTERS[j]![1]);
  }
  if (sketchBackwards(t.latencyUs, last.latencyUs)) return change("counter_backwards", "latency_us");
  for (const m of t.metrics) {
    const before = last.metrics.get(m.name);
    if (before && (Number(m.count) < before.count || sketchBackwards(m.sketch, before.sketch))) {
      return change("counter_backwards", `metrics[${m.name}]`);
    }
  }
  for (const name of last.metrics.keys()) {
    if (!t.metrics.some((m) => m.name === name)) return change("counter_backwards", `metrics[${name}]`);
  }
  return null;
}

/** The first count whose change is larger than the change of requests. */
function beyondRequests(t: VariantTotals, last: LastTotals): Violation | null {
  const requests = Number(t.requests) - last.counters[0]!;
  if (Number(t.failures) - last.counters[1]! > requests) return change("impossible_counts", "failures");
  if (Number(t.latencyUs?.count ?? 0n) - last.latencyUs.count > requests) {
    return change("impossible_counts", "latency_us.count");
  }
  for (const m of t.metrics) {
    const before = last.metrics.get(m.name);
    if (Number(m.count) - (before?.count ?? 0) > requests)
      return change("impossible_counts", `metrics[${m.name}]`);
  }
  return null;
}

function change(reason: string, field: string): Violation {
  return { reason, field, value: "" };
}

/** Whether any count of `later` is below `earlier`'s, including a bucket that disappeared. */
function sketchBackwards(later: WireSketch | undefined, earlier: LastSketch): boolean {
  if (!later) return earlier.count > 0;
  if (Number(later.count) < earlier.count || Number(later.zeroCount) < earlier.zeroCount) return true;
  const li = later.indexes;
  const ei = earlier.indexes;
  let j = 0;
  for (let i = 0; i < li.length; i++) {
    for (; j < ei.length && ei[j]! < li[i]!; j++) if (earlier.counts[j]! > 0) return true;
    if (j < ei.length && ei[j] === li[i] && Number(later.counts[i]) < earlier.counts[j++]!) return true;
  }
  for (; j < ei.length; j++) if (earlier.counts[j]! > 0) return true;
  return false;
}

/** Whether `t` counts anything `last` does not: no delta object is built for an idle entry. */
export function changed(t: VariantTotals, last: LastTotals): boolean {
  for (let j = 0; j < COUNTERS.length; j++) {
    if (Number(t[COUNTERS[j]![0]]) !== last.counters[j]) return true;
  }
  if (Number(t.latencyUs?.count ?? 0n) !== last.latencyUs.count) return true;
  for (const m of t.metrics) if (Number(m.count) !== (last.metrics.get(m.name)?.count ?? 0)) return true;
  return false;
}
