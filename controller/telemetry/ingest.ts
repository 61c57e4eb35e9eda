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
 */
import type { Report, VariantTotals } from "../gen/meshcanary/v1/telemetry_pb.js";
import { advanceAll, advanceKnown, type DeltaTarget } from "./advance.js";
import type { DroppedEntry, Violation } from "./bounds.js";
import { changed, checkGroups, implausibleChange } from "./entry-checks.js";
import { lastTotals, overwrite, type TotalsByEntry, ZERO_TOTALS } from "./last-totals.js";
import { allEntries, type Entries, entryKey, usableEntries } from "./report-entries.js";
import type { VariantStats } from "./types.js";
import { emptyStats } from "./windows.js";

export type { DeltaTarget } from "./advance.js";

/** The change of one (canary, variant) since the reporter's previous accepted Report. */
export interface VariantDelta {
  canary: string;
  variant: string;
  stats: VariantStats;
}

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
  | { kind: "ignored"; reporter: string; reason: IgnoredReason };

/** Why a Report was not counted: seen already, from a replaced instance, or not its sender's to send. */
type IgnoredReason = "duplicate" | "stale_instance" | "instance_takeover";

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
  totals: TotalsByEntry;
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
    const entries = dropped.length === 0 ? allEntries(report) : usableEntries(report, dropped);
    const a: Arrival = { report, entries, nowMs, into: target ?? collect(deltas), deltas, principal };
    const rep = report.reporter!;
    const prev = this.pods.get(rep.namespace)?.get(rep.pod);
    if (!prev) return this.firstSighting(`${rep.namespace}/${rep.pod}`, a, false, []);
    if (prev.principal !== principal) return ignored(prev, "instance_takeover");
    if (prev.instanceId !== rep.instanceId) return this.newInstance(prev, a);
    if (report.seq <= prev.seq) return ignored(prev, "duplicate");
    if (prev.returning && endReturning(prev, a)) return this.firstSighting(prev.key, a, false, prev.retired);
    return advanceInstance(prev, a);
  }

  /** A known pod reporting with another instance id: a restart, or a straggler of an older instance. */
  private newInstance(prev: InstanceState, a: Arrival): IngestResult {
    const rep = a.report.reporter!;
    // An earlier start time marks a straggler from an older instance, unless this is the new
    // instance's first report: then the proxy's clock stepped back across the restart.
    const older = Number(rep.startTimeUnixMs) < prev.startTimeMs && a.report.seq !== 1n;
    if (prev.retired.includes(rep.instanceId) || older) return ignored(prev, "stale_instance");
    const retired = [...prev.retired, prev.instanceId].slice(-RETIRED_KEPT);
    return this.firstSighting(prev.key, a, true, retired);
  }

  private firstSighting(key: string, a: Arrival, restart: boolean, retired: string[]): IngestResult {
    const { report, entries } = a;
    const rep = report.reporter!;
    const reported = seedBaseline(report, entries);
    const totals: TotalsByEntry = reported ?? new Map();
    const counts = reported !== null || restart || report.seq === 1n;
    const rejected = advanceAll(report, totals, entries.totals, counts ? a.into : null);
    this.podsIn(rep.namespace).set(rep.pod, {
      key,
      principal: a.principal,
      instanceId: rep.instanceId,
      startTimeMs: Number(rep.startTimeUnixMs),
      seq: report.seq,
      lastSeenMs: a.nowMs,
      routingVersion: Number(report.routingVersion),
      totals,
      retired,
      pending: !counts && entries.droppedKeys.length > 0 ? new Set(entries.droppedKeys) : null,
    });
    return {
      kind: "accepted",
      reporter: key,
      deltas: a.deltas,
      restart,
      baseline: !counts,
      dropped: rejected,
    };
  }

  private podsIn(namespace: string): Map<string, InstanceState> {
    let byPod = this.pods.get(namespace);
    if (!byPod) {
      byPod = new Map();
      this.pods.set(namespace, byPod);
    }
    return byPod;
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

/** One Report as `apply` received it, handed on whole to the step that counts it. */
interface Arrival {
  report: Report;
  entries: Entries;
  nowMs: number;
  into: DeltaTarget;
  /** Filled through `into` when `apply` was given no DeltaTarget. */
  deltas: VariantDelta[];
  principal: string;
}

function ignored(prev: InstanceState, reason: IgnoredReason): IngestResult {
  return { kind: "ignored", reporter: prev.key, reason };
}

/** A known instance's next Report: its entries advance from the totals held for it. */
function advanceInstance(prev: InstanceState, a: Arrival): IngestResult {
  const rejected = advanceKnown(prev.totals, prev.pending, a.report, a.entries.totals, a.into);
  prev.seq = a.report.seq;
  prev.lastSeenMs = a.nowMs;
  prev.routingVersion = Number(a.report.routingVersion);
  return {
    kind: "accepted",
    reporter: prev.key,
    deltas: a.deltas,
    restart: false,
    baseline: false,
    dropped: rejected,
  };
}

/**
 * Ends a returning instance's time away with the first Report of its new stream. True when that
 * stream's baseline was counted by another controller and is usable: the instance is then seen
 * afresh from it.
 */
function endReturning(prev: InstanceState, a: Arrival): boolean {
  prev.returning = false;
  const ahead = baselineAhead(prev, a.entries.baseline);
  prev.refused = null;
  return ahead && seedBaseline(a.report, a.entries) !== null;
}

/**
 * The Report's `baseline` as last totals to count `totals` from, or null when there is none or it is
 * unusable: an entry above the totals (or absent from them while non-zero) would make deltas negative.
 * Presence is checked against every entry of the Report, so a dropped totals entry keeps its
 * baseline and is later counted from it. Runs once per instance, so it may allocate.
 */
function seedBaseline(report: Report, entries: Entries): TotalsByEntry | null {
  if (entries.baseline.length === 0) return null;
  const state: TotalsByEntry = new Map();
  for (const b of entries.baseline) {
    if (!report.totals.some((t) => t.canary === b.canary && t.variant === b.variant)) {
      if (changed(b, ZERO_TOTALS)) return null;
      continue;
    }
    const last = lastTotals(state, b.canary, b.variant);
    overwrite(last, b, checkGroups(b, last));
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

/** A DeltaTarget that hands out a fresh stats object per change and lists it in `deltas`. */
function collect(deltas: VariantDelta[]): DeltaTarget {
  return (canary, variant) => {
    const stats = emptyStats();
    deltas.push({ canary, variant, stats });
    return stats;
  };
}
