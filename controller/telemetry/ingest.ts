/**
 * Cumulative totals -> deltas, per reporter instance (DESIGN §4). Pure core (state in memory, no I/O):
 * lost, duplicated or reordered Reports lose and double nothing because each Report carries totals
 * since the proxy started; the controller keeps the last totals and seq per instance.
 *
 * First sighting of an instance:
 * - with a usable `baseline` in the Report (the totals the filter believes an earlier controller
 *   received: controller restart, leader move), totals − baseline is the delta, so the traffic of the
 *   outage is neither lost nor counted twice;
 * - otherwise a known pod with a new instance id is a restart: its totals are the delta, the old
 *   instance is retired;
 * - otherwise an unknown pod counts from zero only on its first report (seq 1); past it (controller
 *   restart by an older filter, pod evicted while idle, baseline above the totals) its totals become
 *   the baseline, so history is never counted twice.
 * A known instance's `baseline` is ignored: this controller already holds its last totals; except
 * after this controller stopped leading, when a baseline ahead of them was counted by another.
 *
 * Memory: this runs for every Report of every proxy (10,000/s at scale), so the last totals are kept
 * as plain numbers and overwritten in place, never by holding on to the decoded message: a Report
 * kept for a second outlives the young generation and turns into old-space garbage.
 */
import type { Report, Sketch as WireSketch, VariantTotals } from "../gen/meshcanary/v1/telemetry_pb.js";
import type { DroppedEntry, Violation } from "./bounds.js";
import { addToBucket, emptySketch, type Sketch, saturatingAdd } from "./sketch.js";
import type { VariantStats } from "./types.js";
import {
  addUserGroupDeltas,
  checkUserGroups,
  type LastUserGroups,
  overwriteUserGroups,
  type UserGroupCheck,
} from "./user-groups-ingest.js";
import {
  addSlowDeltas,
  checkSlow,
  type LastSlow,
  overwriteSlow,
  type SlowCheck,
} from "./slow-groups-ingest.js";
import { emptyStats } from "./windows.js";

/** The change of one (canary, variant) since the reporter's previous accepted Report. */
export interface VariantDelta {
  canary: string;
  variant: string;
  stats: VariantStats;
}

/**
 * Where the change of a (canary, variant) goes: the stats object it is added into (e.g. the current
 * window's). Lets a caller aggregate without a delta object being built per entry per Report.
 */
export type DeltaTarget = (canary: string, variant: string) => VariantStats;

export type IngestResult =
  | {
      kind: "accepted";
      reporter: string;
      /** The non-empty changes; empty when `apply` was given a DeltaTarget (they were added there). */
      deltas: VariantDelta[];
      restart: boolean;
      /** True when nothing was counted: the totals were taken as the baseline (no usable `baseline`). */
      baseline: boolean;
      /** Entries this step dropped (e.g. counters going backwards); the Report's other entries were used. */
      dropped: Violation[];
    }
  | { kind: "ignored"; reporter: string; reason: "duplicate" | "stale_instance" | "instance_takeover" };

/** A cumulative sketch as last received: parallel ascending indexes and counts, as numbers. */
interface LastSketch {
  count: number;
  zeroCount: number;
  sum: number;
  indexes: number[];
  counts: number[];
}

/** Cumulative totals of one custom metric as last received. */
interface LastMetric {
  count: number;
  sum: number;
  sketch: LastSketch;
}

/** Cumulative totals of one (canary, variant) as last received, updated in place. */
interface LastTotals {
  /** seq of the last Report that carried this entry (usable or not). */
  seenSeq: bigint;
  /** In COUNTERS order. */
  counters: number[];
  latencyUs: LastSketch;
  metrics: Map<string, LastMetric>;
  /** Per-user-group counts, once an entry carried them. */
  userGroups?: LastUserGroups;
  /** Per-threshold slow counts per user group, while the entry carries them. */
  slow?: LastSlow;
}

interface InstanceState {
  /** "namespace/pod", built once per instance rather than per Report. */
  key: string;
  /** Authenticated principal that first reported for this pod ("" unauthenticated); only it may report as the pod. */
  principal: string;
  instanceId: string;
  startTimeMs: number;
  seq: bigint;
  lastSeenMs: number;
  routingVersion: number;
  /**
   * canary -> variant -> cumulative totals. An entry a Report no longer carries is forgotten: the
   * filter drops a canary that left its routing table once its last totals were delivered, and
   * counts it from zero should it come back.
   */
  totals: Map<string, Map<string, LastTotals>>;
  /** Instance ids of this pod that were replaced by a restart (a few, newest last). */
  retired: string[];
  /**
   * Keys ("canary\nvariant") dropped from the first Report of an instance whose totals were taken as
   * the baseline: their first usable totals are a baseline too, not a delta from zero. Null when none.
   */
  pending: Set<string> | null;
  /** This controller stopped leading since this instance's last Report (markReturning). */
  returning?: boolean;
  /** Requests by entry key of the Reports this controller refused uncounted since markReturning. */
  refused?: Map<string, number[]> | null;
}

const RETIRED_KEPT = 4;
/** Refused Reports remembered per entry of a returning instance (see noteRefused). */
const REFUSED_KEPT = 16;

/** Per-pod ingest state; `apply` never throws. */
export class Ingest {
  /** namespace -> pod -> state: looked up without building a "namespace/pod" string per Report. */
  private readonly pods = new Map<string, Map<string, InstanceState>>();

  /**
   * Turns one (already bounds-checked: counters at most 2^53, sketches well-formed) Report into
   * deltas, updating the reporter's state. Entries named in `dropped` (by checkEntries) are skipped;
   * an entry whose change is impossible (counters going backwards, more failures than requests) is
   * dropped here and returned, while the Report's other entries are used. With a `target`, each
   * change is added into the stats it returns instead of being returned. `principal` is who sent
   * the Report: a pod already known from another principal is not theirs to report for, with this
   * instance or a new one (instance takeover).
   */
  apply(
    report: Report,
    nowMs: number,
    target?: DeltaTarget,
    dropped: readonly DroppedEntry[] = [],
    principal = "",
  ): IngestResult {
    const deltas: VariantDelta[] = [];
    const into = target ?? collect(deltas);
    const rep = report.reporter!;
    const entries = dropped.length === 0 ? allEntries(report) : usableEntries(report, dropped);
    const prev = this.pods.get(rep.namespace)?.get(rep.pod);
    if (!prev) {
      const key = `${rep.namespace}/${rep.pod}`;
      return this.firstSighting(key, report, entries, nowMs, false, [], into, deltas, principal);
    }
    if (prev.principal !== principal)
      return { kind: "ignored", reporter: prev.key, reason: "instance_takeover" };
    if (prev.instanceId !== rep.instanceId) {
      // An earlier start time marks a straggler from an older instance, unless this is the new
      // instance's first report: then the proxy's clock stepped back across the restart.
      const older = Number(rep.startTimeUnixMs) < prev.startTimeMs && report.seq !== 1n;
      if (prev.retired.includes(rep.instanceId) || older) {
        return { kind: "ignored", reporter: prev.key, reason: "stale_instance" };
      }
      const retired = [...prev.retired, prev.instanceId].slice(-RETIRED_KEPT);
      return this.firstSighting(prev.key, report, entries, nowMs, true, retired, into, deltas, principal);
    }
    if (report.seq <= prev.seq) return { kind: "ignored", reporter: prev.key, reason: "duplicate" };
    if (prev.returning) {
      prev.returning = false;
      const ahead = baselineAhead(prev, entries.baseline);
      prev.refused = null;
      if (ahead && seedBaseline(report, entries) !== null) {
        return this.firstSighting(
          prev.key,
          report,
          entries,
          nowMs,
          false,
          prev.retired,
          into,
          deltas,
          principal,
        );
      }
    }
    const rejected = advanceKnown(prev, report, entries.totals, into);
    prev.seq = report.seq;
    prev.lastSeenMs = nowMs;
    prev.routingVersion = Number(report.routingVersion);
    return {
      kind: "accepted",
      reporter: prev.key,
      deltas,
      restart: false,
      baseline: false,
      dropped: rejected,
    };
  }

  private firstSighting(
    key: string,
    report: Report,
    entries: Entries,
    nowMs: number,
    restart: boolean,
    retired: string[],
    into: DeltaTarget,
    deltas: VariantDelta[],
    principal: string,
  ): IngestResult {
    const rep = report.reporter!;
    const reported = seedBaseline(report, entries);
    const totals = reported ?? new Map<string, Map<string, LastTotals>>();
    const counts = reported !== null || restart || report.seq === 1n;
    const rejected = advanceAll(report, totals, entries.totals, counts ? into : null);
    let byPod = this.pods.get(rep.namespace);
    if (!byPod) {
      byPod = new Map();
      this.pods.set(rep.namespace, byPod);
    }
    byPod.set(rep.pod, {
      key,
      principal,
      instanceId: rep.instanceId,
      startTimeMs: Number(rep.startTimeUnixMs),
      seq: report.seq,
      lastSeenMs: nowMs,
      routingVersion: Number(report.routingVersion),
      totals,
      retired,
      pending: !counts && entries.droppedKeys.length > 0 ? new Set(entries.droppedKeys) : null,
    });
    return { kind: "accepted", reporter: key, deltas, restart, baseline: !counts, dropped: rejected };
  }

  /** Routing version each reporter ("namespace/pod") heard from at or after `seenSinceMs` last reported. */
  routingVersions(seenSinceMs = Number.NEGATIVE_INFINITY): Map<string, number> {
    const out = new Map<string, number>();
    for (const byPod of this.pods.values()) {
      for (const s of byPod.values()) if (s.lastSeenMs >= seenSinceMs) out.set(s.key, s.routingVersion);
    }
    return out;
  }

  /** Whether (namespace, pod) is tracked. */
  has(namespace: string, pod: string): boolean {
    return this.pods.get(namespace)?.has(pod) ?? false;
  }

  /** Number of reporters currently tracked. */
  size(): number {
    let n = 0;
    for (const byPod of this.pods.values()) n += byPod.size;
    return n;
  }

  /**
   * This controller stopped leading: another may count every reporter's traffic until it leads
   * again. Each reporter's next new stream is checked against its baseline (see `apply`).
   */
  markReturning(): void {
    for (const byPod of this.pods.values()) {
      // Still returning from an earlier time away: the Reports refused then may still come back.
      for (const s of byPod.values()) s.returning = true;
    }
  }

  /**
   * A Report this controller refused uncounted (one a drained or refused stream ended on, already
   * bounds-checked), from `principal`: should the filter take it as delivered and bring it back as
   * its baseline, that is not another controller's count.
   */
  noteRefused(report: Report, principal = ""): void {
    const rep = report.reporter!;
    const s = this.pods.get(rep.namespace)?.get(rep.pod);
    if (!s?.returning || s.principal !== principal || s.instanceId !== rep.instanceId) return;
    s.refused ??= new Map();
    for (const t of report.totals) {
      const key = entryKey(t);
      const seen = s.refused.get(key) ?? [];
      // A few per entry: one per stream refused while away (the filter backs off between them).
      seen.push(Number(t.requests));
      s.refused.set(key, seen.slice(-REFUSED_KEPT));
    }
  }

  /** Forgets reporters not heard from since `nowMs - idleMs` (bounds memory as pods come and go). */
  evictIdle(nowMs: number, idleMs: number): number {
    let n = 0;
    for (const [namespace, byPod] of this.pods) {
      for (const [pod, s] of byPod) {
        if (s.lastSeenMs < nowMs - idleMs) {
          byPod.delete(pod);
          n++;
        }
      }
      if (byPod.size === 0) this.pods.delete(namespace);
    }
    return n;
  }
}

/**
 * The Report's `baseline` as last totals to count `totals` from, or null when there is none or it is
 * unusable: an entry above the totals (or absent from them while non-zero) would make deltas negative.
 * Presence is checked against every entry of the Report, so a dropped totals entry keeps its
 * baseline and is later counted from it. Runs once per instance, so it may allocate.
 */
function seedBaseline(report: Report, entries: Entries): Map<string, Map<string, LastTotals>> | null {
  if (entries.baseline.length === 0) return null;
  const state = new Map<string, Map<string, LastTotals>>();
  for (const b of entries.baseline) {
    if (!report.totals.some((t) => t.canary === b.canary && t.variant === b.variant)) {
      if (changed(b, ZERO_TOTALS)) return null;
      continue;
    }
    overwrite(lastTotals(state, b.canary, b.variant), b);
  }
  for (const t of entries.totals) {
    const last = state.get(t.canary)?.get(t.variant);
    if (last && implausibleChange(t, last) !== null) return null;
  }
  return state;
}

/**
 * Whether a returning instance's new stream carries a baseline ahead of the totals held for it (an
 * entry with more requests): another controller led meanwhile and counted up to that baseline, so
 * counting from the held totals would count its share twice. A baseline at or below them is this
 * controller's own count (or older: a report counted here but not yet confirmed), and the held
 * totals stay exact; so is one equal to a Report this controller refused since it stopped leading
 * (the filter took it as delivered before the stream's end reached it).
 */
function baselineAhead(prev: InstanceState, baseline: VariantTotals[]): boolean {
  for (const b of baseline) {
    const held = prev.totals.get(b.canary)?.get(b.variant)?.counters[0] ?? 0;
    const requests = Number(b.requests);
    if (requests > held && !prev.refused?.get(entryKey(b))?.includes(requests)) return true;
  }
  return false;
}

/** The entries of a Report that are used, and the keys of its dropped totals entries. */
interface Entries {
  totals: VariantTotals[];
  baseline: VariantTotals[];
  droppedKeys: readonly string[];
}

function allEntries(report: Report): Entries {
  return { totals: report.totals, baseline: report.baseline, droppedKeys: NO_KEYS };
}

const NO_KEYS: readonly string[] = Object.freeze([]);

/**
 * The Report without its dropped entries. A baseline entry of an unknown canary goes alone (its
 * totals entry is unknown too); any other broken baseline entry makes the whole baseline unusable,
 * since counting its key from zero would count history twice.
 */
function usableEntries(report: Report, dropped: readonly DroppedEntry[]): Entries {
  const skip = new Set<number>();
  const skipBaseline = new Set<number>();
  let baselineBroken = false;
  for (const d of dropped) {
    if (d.list === "totals") skip.add(d.index);
    else if (d.violation.reason === "unknown_canary") skipBaseline.add(d.index);
    else baselineBroken = true;
  }
  const droppedKeys = [...skip].map((i) => entryKey(report.totals[i]!));
  return {
    totals: report.totals.filter((_, i) => !skip.has(i)),
    baseline: baselineBroken ? [] : report.baseline.filter((_, i) => !skipBaseline.has(i)),
    droppedKeys,
  };
}

function entryKey(t: VariantTotals): string {
  return `${t.canary}\n${t.variant}`;
}

/**
 * Advances a known instance's totals entry by entry; an entry whose change is impossible is left at
 * its last totals and returned as a violation, the others are counted.
 */
function advanceKnown(
  prev: InstanceState,
  report: Report,
  totals: VariantTotals[],
  into: DeltaTarget,
): Violation[] {
  let rejected: Violation[] | null = null;
  markSeen(prev.totals, report);
  for (const t of totals) {
    const known = prev.totals.get(t.canary)?.get(t.variant);
    if (!known && prev.pending?.delete(entryKey(t))) {
      // First usable totals of an entry dropped while this instance was being baselined.
      const seeded = lastTotals(prev.totals, t.canary, t.variant);
      overwrite(seeded, t);
      seeded.seenSeq = report.seq;
      continue;
    }
    const last = known ?? lastTotals(prev.totals, t.canary, t.variant);
    const v = known ? implausibleChange(t, last) : null;
    const drops = v ? named(report, t, [v]) : advanceEntry(report, t, last, into);
    if (drops.length > 0) {
      rejected ??= [];
      rejected.push(...drops);
    }
    if (!v) last.seenSeq = report.seq;
  }
  forgetUnseen(prev.totals, report.seq);
  return rejected ?? NO_VIOLATIONS;
}

/** Violations of the totals entry `t`, named by its place in the Report and its canary and variant. */
function named(report: Report, t: VariantTotals, drops: readonly Violation[]): Violation[] {
  const i = report.totals.indexOf(t);
  return drops.map((d) => ({
    ...d,
    field: `totals[${i}].${d.field}`,
    value: `${t.canary} ${t.variant}: ${d.value}`,
  }));
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

/** The checks of an entry's user-group and slow-count entries, against the last totals (before they take `t`'s). */
interface GroupChecks {
  groups: UserGroupCheck;
  slow: SlowCheck;
}

/** Made once per entry: delta, overwrite and the violations all use the same checks. */
function checkGroups(t: VariantTotals, last: LastTotals): GroupChecks {
  const groups = checkUserGroups(t, last.userGroups, Number(t.requests) - last.counters[0]!);
  return { groups, slow: checkSlow(t, last.userGroups, groups, last.slow) };
}

/** Marks the known entries the Report carries, usable or dropped. */
function markSeen(state: Map<string, Map<string, LastTotals>>, report: Report): void {
  for (const t of report.totals) {
    const last = state.get(t.canary)?.get(t.variant);
    if (last) last.seenSeq = report.seq;
  }
}

/** Deletes the entries the Report with `seq` did not carry. */
function forgetUnseen(state: Map<string, Map<string, LastTotals>>, seq: bigint): void {
  for (const [canary, byVariant] of state) {
    for (const [variant, last] of byVariant) if (last.seenSeq !== seq) byVariant.delete(variant);
    if (byVariant.size === 0) state.delete(canary);
  }
}

/** Shared, never written: no entry dropped. */
const NO_VIOLATIONS: Violation[] = [];

/** A DeltaTarget that hands out a fresh stats object per change and lists it in `deltas`. */
function collect(deltas: VariantDelta[]): DeltaTarget {
  return (canary, variant) => {
    const stats = emptyStats();
    deltas.push({ canary, variant, stats });
    return stats;
  };
}

/**
 * Adds each entry's change into `into` (none for a baseline: null) and moves its last totals to
 * `totals`, which are known not to go backwards. Returns the user-group and slow-count entries
 * left out on the way, so a first report's are named too.
 */
function advanceAll(
  report: Report,
  state: Map<string, Map<string, LastTotals>>,
  totals: VariantTotals[],
  into: DeltaTarget | null,
): Violation[] {
  let rejected: Violation[] | null = null;
  for (const t of totals) {
    const drops = advanceEntry(report, t, lastTotals(state, t.canary, t.variant), into);
    if (drops.length > 0) {
      rejected ??= [];
      rejected.push(...drops);
    }
  }
  return rejected ?? NO_VIOLATIONS;
}

/** The entry for (canary, variant), created at zero on first sight. */
function lastTotals(
  state: Map<string, Map<string, LastTotals>>,
  canary: string,
  variant: string,
): LastTotals {
  let byVariant = state.get(canary);
  if (!byVariant) {
    byVariant = new Map();
    state.set(canary, byVariant);
  }
  let last = byVariant.get(variant);
  if (!last) {
    last = { seenSeq: 0n, counters: COUNTERS.map(() => 0), latencyUs: zeroSketch(), metrics: new Map() };
    byVariant.set(variant, last);
  }
  return last;
}

function zeroSketch(): LastSketch {
  return { count: 0, zeroCount: 0, sum: 0, indexes: [], counts: [] };
}

/** Fields of VariantTotals summed as counters, with their proto names (for rejections). */
const COUNTERS = [
  ["requests", "requests"],
  ["failures", "failures"],
  ["statusNone", "status_none"],
  ["status1xx", "status_1xx"],
  ["status2xx", "status_2xx"],
  ["status3xx", "status_3xx"],
  ["status4xx", "status_4xx"],
  ["status5xx", "status_5xx"],
  ["responseBytes", "response_bytes"],
] as const;

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
function implausibleChange(t: VariantTotals, last: LastTotals): Violation | null {
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
function changed(t: VariantTotals, last: LastTotals): boolean {
  for (let j = 0; j < COUNTERS.length; j++) {
    if (Number(t[COUNTERS[j]![0]]) !== last.counters[j]) return true;
  }
  if (Number(t.latencyUs?.count ?? 0n) !== last.latencyUs.count) return true;
  for (const m of t.metrics) if (Number(m.count) !== (last.metrics.get(m.name)?.count ?? 0)) return true;
  return false;
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

/** Never written: the "before" of a metric sketch seen for the first time. */
const ZERO_SKETCH: LastSketch = Object.freeze(zeroSketch());

/** Never written: all-zero last totals (a baseline entry equal to it needs no totals entry). */
const ZERO_TOTALS: LastTotals = Object.freeze({
  seenSeq: 0n,
  counters: COUNTERS.map(() => 0),
  latencyUs: ZERO_SKETCH,
  metrics: new Map<string, LastMetric>(),
});

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

/**
 * last := t, reusing last's arrays (their length only changes when the bucket set does). `checks`
 * are made against `last` before it takes t's counts (the default does so too).
 */
function overwrite(last: LastTotals, t: VariantTotals, checks: GroupChecks = checkGroups(t, last)): void {
  if (t.userGroups.length > 0) last.userGroups = overwriteUserGroups(last.userGroups, t, checks.groups);
  if (t.slow.length > 0 || last.slow) last.slow = overwriteSlow(last.slow, t, checks.slow);
  for (let j = 0; j < COUNTERS.length; j++) last.counters[j] = Number(t[COUNTERS[j]![0]]);
  overwriteSketch(last.latencyUs, t.latencyUs);
  for (const m of t.metrics) {
    let lm = last.metrics.get(m.name);
    if (!lm) {
      lm = { count: 0, sum: 0, sketch: zeroSketch() };
      last.metrics.set(m.name, lm);
    }
    lm.count = Number(m.count);
    lm.sum = m.sum;
    overwriteSketch(lm.sketch, m.sketch);
  }
}

function overwriteSketch(last: LastSketch, wire: WireSketch | undefined): void {
  if (!wire) {
    Object.assign(last, zeroSketch());
    return;
  }
  last.count = Number(wire.count);
  last.zeroCount = Number(wire.zeroCount);
  last.sum = wire.sum;
  if (last.indexes.length !== wire.indexes.length) {
    // Copies, so the decoded message is not kept alive.
    last.indexes = wire.indexes.slice();
    last.counts = wire.counts.map(Number);
    return;
  }
  for (let i = 0; i < wire.indexes.length; i++) {
    last.indexes[i] = wire.indexes[i]!;
    last.counts[i] = Number(wire.counts[i]);
  }
}
