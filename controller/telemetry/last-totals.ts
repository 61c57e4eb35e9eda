/**
 * The cumulative totals of one reporter instance as last received, per (canary, variant) entry, and
 * how an entry takes a Report's. Apart from the instance bookkeeping (ingest.ts) because this is
 * the part whose shape is set by memory: it runs for every entry of every Report (10,000 Reports/s
 * at scale), so the totals are plain numbers overwritten in place, never the decoded message: a
 * Report kept for a second outlives the young generation and turns into old-space garbage.
 */
import type { Report, Sketch as WireSketch, VariantTotals } from "../gen/meshcanary/v1/telemetry_pb.js";
import type { GroupChecks } from "./entry-checks.js";
import { type LastSlow, overwriteSlow } from "./slow-groups-ingest.js";
import { type LastUserGroups, overwriteUserGroups } from "./user-groups-ingest.js";

/**
 * Fields of VariantTotals summed as counters, with their proto names (for rejections; bounds.ts
 * checks the same list). Requests and failures first: LastTotals.counters is read by position.
 */
export const COUNTERS = [
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

/** A cumulative sketch as last received: parallel ascending indexes and counts, as numbers. */
export interface LastSketch {
  count: number;
  zeroCount: number;
  sum: number;
  indexes: number[];
  counts: number[];
}

/** Cumulative totals of one custom metric as last received. */
export interface LastMetric {
  count: number;
  sum: number;
  sketch: LastSketch;
}

/** Cumulative totals of one (canary, variant) as last received, updated in place. */
export interface LastTotals {
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

/** canary -> variant -> last totals of one instance. */
export type TotalsByEntry = Map<string, Map<string, LastTotals>>;

/** The entry for (canary, variant), created at zero on first sight. */
export function lastTotals(state: TotalsByEntry, canary: string, variant: string): LastTotals {
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

/** Never written: the "before" of a metric sketch seen for the first time. */
export const ZERO_SKETCH: LastSketch = Object.freeze(zeroSketch());

/** Never written: all-zero last totals (a baseline entry equal to it needs no totals entry). */
export const ZERO_TOTALS: LastTotals = Object.freeze({
  seenSeq: 0n,
  counters: COUNTERS.map(() => 0),
  latencyUs: ZERO_SKETCH,
  metrics: new Map<string, LastMetric>(),
});

/** Marks the known entries the Report carries, usable or dropped. */
export function markSeen(state: TotalsByEntry, report: Report): void {
  for (const t of report.totals) {
    const last = state.get(t.canary)?.get(t.variant);
    if (last) last.seenSeq = report.seq;
  }
}

/** Deletes the entries the Report with `seq` did not carry. */
export function forgetUnseen(state: TotalsByEntry, seq: bigint): void {
  for (const [canary, byVariant] of state) {
    for (const [variant, last] of byVariant) if (last.seenSeq !== seq) byVariant.delete(variant);
    if (byVariant.size === 0) state.delete(canary);
  }
}

/**
 * last := t, reusing last's arrays (their length only changes when the bucket set does). `checks`
 * must be made against `last` before it takes t's counts.
 */
export function overwrite(last: LastTotals, t: VariantTotals, checks: GroupChecks): void {
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
