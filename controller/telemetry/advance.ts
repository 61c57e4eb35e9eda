/**
 * Moves an instance's last totals to a Report's, entry by entry, adding each entry's change into the
 * caller's stats. Kept apart from the instance bookkeeping (ingest.ts) because it is the same for a
 * known instance and a first sighting, and from the per-entry checks because it decides what a
 * dropped entry costs: only that entry stays at its last totals, the Report's others are counted.
 */
import type { Report, Sketch as WireSketch, VariantTotals } from "../gen/meshcanary/v1/telemetry_pb.js";
import type { Violation } from "./bounds.js";
import { changed, checkGroups, type GroupChecks, implausibleChange, named } from "./entry-checks.js";
import {
  COUNTERS,
  forgetUnseen,
  type LastSketch,
  type LastTotals,
  lastTotals,
  markSeen,
  overwrite,
  type TotalsByEntry,
  ZERO_SKETCH,
} from "./last-totals.js";
import { entryKey } from "./report-entries.js";
import { addToBucket, emptySketch, type Sketch, saturatingAdd } from "./sketch.js";
import { addSlowDeltas } from "./slow-groups-ingest.js";
import type { VariantStats } from "./types.js";
import { addUserGroupDeltas } from "./user-groups-ingest.js";

/**
 * Where the change of a (canary, variant) goes: the stats object it is added into (e.g. the current
 * window's). Lets a caller aggregate without a delta object being built per entry per Report.
 */
export type DeltaTarget = (canary: string, variant: string) => VariantStats;

/** Shared, never written: no entry dropped. */
const NO_VIOLATIONS: Violation[] = [];

/**
 * Advances a known instance's totals entry by entry; an entry whose change is impossible is left at
 * its last totals and returned as a violation, the others are counted. `pending` holds the keys of
 * entries dropped while the instance was being baselined (their first usable totals are a baseline).
 */
export function advanceKnown(
  state: TotalsByEntry,
  pending: Set<string> | null,
  report: Report,
  totals: VariantTotals[],
  into: DeltaTarget,
): Violation[] {
  let rejected: Violation[] | null = null;
  markSeen(state, report);
  for (const t of totals) {
    const known = state.get(t.canary)?.get(t.variant);
    if (!known && pending?.delete(entryKey(t))) {
      // First usable totals of an entry dropped while this instance was being baselined.
      const seeded = lastTotals(state, t.canary, t.variant);
      overwrite(seeded, t, checkGroups(t, seeded));
      seeded.seenSeq = report.seq;
      continue;
    }
    const last = known ?? lastTotals(state, t.canary, t.variant);
    const v = known ? implausibleChange(t, last) : null;
    rejected = gather(rejected, v ? named(report, t, [v]) : advanceEntry(report, t, last, into));
    if (!v) last.seenSeq = report.seq;
  }
  forgetUnseen(state, report.seq);
  return rejected ?? NO_VIOLATIONS;
}

/**
 * Adds each entry's change into `into` (none for a baseline: null) and moves its last totals to
 * `totals`, which are known not to go backwards. Returns the user-group and slow-count entries
 * left out on the way, so a first report's are named too.
 */
export function advanceAll(
  report: Report,
  state: TotalsByEntry,
  totals: VariantTotals[],
  into: DeltaTarget | null,
): Violation[] {
  let rejected: Violation[] | null = null;
  for (const t of totals) {
    rejected = gather(rejected, advanceEntry(report, t, lastTotals(state, t.canary, t.variant), into));
  }
  return rejected ?? NO_VIOLATIONS;
}

/** `rejected` with `drops` added; no list is allocated while no entry is dropped. */
function gather(rejected: Violation[] | null, drops: readonly Violation[]): Violation[] | null {
  if (drops.length === 0) return rejected;
  const out = rejected ?? [];
  out.push(...drops);
  return out;
}

/**
 * Counts one totals entry: its change into `into` (none for a baseline: null), then its last
 * totals take it. Returns its user-group and slow-count entries that were left out, named.
 */
function advanceEntry(
  report: Report,
  t: VariantTotals,
  last: LastTotals,
  into: DeltaTarget | null,
): Violation[] {
  const checks = checkGroups(t, last);
  if (into && changed(t, last)) addDelta(into(t.canary, t.variant), t, last, checks);
  overwrite(last, t, checks);
  const { groups, slow } = checks;
  if (groups.dropped.length === 0 && slow.dropped.length === 0) return NO_VIOLATIONS;
  return named(report, t, [...groups.dropped, ...slow.dropped]);
}

/** into += t - last (only changed buckets and metrics are touched). */
function addDelta(into: VariantStats, t: VariantTotals, last: LastTotals, checks: GroupChecks): void {
  for (let j = 0; j < COUNTERS.length; j++) {
    const k = COUNTERS[j]![0];
    into[k] += Number(t[k]) - last.counters[j]!;
  }
  addSketchDelta(into.latencyUs, t.latencyUs, last.latencyUs);
  for (const m of t.metrics) {
    const before = last.metrics.get(m.name);
    const count = Number(m.count) - (before?.count ?? 0);
    if (count <= 0) continue;
    let stats = into.metrics.get(m.name);
    if (!stats) {
      stats = { count: 0, sum: 0, sketch: emptySketch() };
      into.metrics.set(m.name, stats);
    }
    stats.count += count;
    stats.sum = saturatingAdd(stats.sum, m.sum - (before?.sum ?? 0));
    addSketchDelta(stats.sketch, m.sketch, before?.sketch ?? ZERO_SKETCH);
  }
  if (t.userGroups.length > 0) addUserGroupDeltas(into, t, last.userGroups, checks.groups);
  if (t.slow.length > 0) addSlowDeltas(into, t, last.slow, checks.slow);
}

/** into += later - earlier, by one merge walk over the ascending indexes (not going backwards: checked). */
function addSketchDelta(into: Sketch, later: WireSketch | undefined, earlier: LastSketch): void {
  if (!later) return;
  into.count += Number(later.count) - earlier.count;
  into.zeroCount += Number(later.zeroCount) - earlier.zeroCount;
  into.sum = saturatingAdd(into.sum, later.sum - earlier.sum);
  const ei = earlier.indexes;
  let j = 0;
  for (let i = 0; i < later.indexes.length; i++) {
    const index = later.indexes[i]!;
    while (j < ei.length && ei[j]! < index) j++;
    const before = j < ei.length && ei[j] === index ? earlier.counts[j++]! : 0;
    const d = Number(later.counts[i]) - before;
    if (d > 0) addToBucket(into, index, d);
  }
}
