/**
 * Cumulative totals -> deltas, per reporter instance (DESIGN §4). Pure core (state in memory, no I/O):
 * lost, duplicated or reordered Reports lose and double nothing because each Report carries totals
 * since the proxy started; the controller keeps the last totals and seq per instance.
 *
 * First sighting of an instance:
 * - a known pod with a new instance id is a restart: its totals are the delta, the old instance is retired;
 * - an unknown pod counts from zero only on its first report (seq 1); otherwise (controller restart,
 *   pod evicted while idle) its totals become the baseline, so history is never counted twice.
 */
import type { Report, VariantTotals } from "../gen/meshcanary/v1/telemetry_pb.js";
import type { Violation } from "./bounds.js";
import { emptyStats } from "./windows.js";
import { emptySketch, type Sketch } from "./sketch.js";
import type { MetricStats, VariantStats } from "./types.js";

/** The change of one (canary, variant) since the reporter's previous accepted Report. */
export interface VariantDelta {
  canary: string;
  variant: string;
  stats: VariantStats;
}

export type IngestResult =
  | { kind: "accepted"; reporter: string; deltas: VariantDelta[]; restart: boolean; baseline: boolean }
  | { kind: "ignored"; reporter: string; reason: "duplicate" | "stale_instance" }
  | { kind: "rejected"; reporter: string; violation: Violation };

interface InstanceState {
  instanceId: string;
  startTimeMs: number;
  seq: bigint;
  lastSeenMs: number;
  routingVersion: number;
  /** canary -> variant -> cumulative totals as received (wire form: no conversion per report). */
  totals: Map<string, Map<string, VariantTotals>>;
  /** Instance ids of this pod that were replaced by a restart (a few, newest last). */
  retired: string[];
}

const RETIRED_KEPT = 4;

/** Per-pod ingest state; `apply` never throws. */
export class Ingest {
  private readonly pods = new Map<string, InstanceState>();

  /** Turns one (already bounds-checked) Report into deltas, updating the reporter's state. */
  apply(report: Report, nowMs: number): IngestResult {
    const rep = report.reporter!;
    const key = `${rep.namespace}/${rep.pod}`;
    const startTimeMs = Number(rep.startTimeUnixMs);
    const prev = this.pods.get(key);
    if (!prev) return this.firstSighting(key, report, nowMs, false, []);
    if (prev.instanceId !== rep.instanceId) {
      if (prev.retired.includes(rep.instanceId) || startTimeMs < prev.startTimeMs) {
        return { kind: "ignored", reporter: key, reason: "stale_instance" };
      }
      const retired = [...prev.retired, prev.instanceId].slice(-RETIRED_KEPT);
      return this.firstSighting(key, report, nowMs, true, retired);
    }
    if (report.seq <= prev.seq) return { kind: "ignored", reporter: key, reason: "duplicate" };
    const next = new Map<string, Map<string, VariantTotals>>();
    const deltas: VariantDelta[] = [];
    for (let i = 0; i < report.totals.length; i++) {
      const t = report.totals[i]!;
      const delta = deltaOf(t, prev.totals.get(t.canary)?.get(t.variant));
      if (typeof delta === "string") {
        return {
          kind: "rejected",
          reporter: key,
          violation: {
            reason: "counter_backwards",
            field: `totals[${i}].${delta}`,
            value: `${t.canary} ${t.variant}`,
          },
        };
      }
      setTotals(next, t.canary, t.variant, t);
      if (!isEmpty(delta)) deltas.push({ canary: t.canary, variant: t.variant, stats: delta });
    }
    carryOver(prev.totals, next);
    prev.totals = next;
    prev.seq = report.seq;
    prev.lastSeenMs = nowMs;
    prev.routingVersion = Number(report.routingVersion);
    return { kind: "accepted", reporter: key, deltas, restart: false, baseline: false };
  }

  private firstSighting(
    key: string,
    report: Report,
    nowMs: number,
    restart: boolean,
    retired: string[],
  ): IngestResult {
    const rep = report.reporter!;
    const totals = new Map<string, Map<string, VariantTotals>>();
    const deltas: VariantDelta[] = [];
    const countFromZero = restart || report.seq === 1n;
    for (const t of report.totals) {
      setTotals(totals, t.canary, t.variant, t);
      if (!countFromZero) continue;
      const d = fromZero(t);
      if (!isEmpty(d)) deltas.push({ canary: t.canary, variant: t.variant, stats: d });
    }
    this.pods.set(key, {
      instanceId: rep.instanceId,
      startTimeMs: Number(rep.startTimeUnixMs),
      seq: report.seq,
      lastSeenMs: nowMs,
      routingVersion: Number(report.routingVersion),
      totals,
      retired,
    });
    return { kind: "accepted", reporter: key, deltas, restart, baseline: !countFromZero };
  }

  /** Routing version each known reporter ("namespace/pod") last reported. */
  routingVersions(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [k, s] of this.pods) out.set(k, s.routingVersion);
    return out;
  }

  /** Number of reporters currently tracked. */
  size(): number {
    return this.pods.size;
  }

  /** Forgets reporters not heard from since `nowMs - idleMs` (bounds memory as pods come and go). */
  evictIdle(nowMs: number, idleMs: number): number {
    let n = 0;
    for (const [k, s] of this.pods) {
      if (s.lastSeenMs < nowMs - idleMs) {
        this.pods.delete(k);
        n++;
      }
    }
    return n;
  }
}

function setTotals(
  m: Map<string, Map<string, VariantTotals>>,
  canary: string,
  variant: string,
  s: VariantTotals,
): void {
  let byVariant = m.get(canary);
  if (!byVariant) {
    byVariant = new Map();
    m.set(canary, byVariant);
  }
  byVariant.set(variant, s);
}

/** Entries the filter stopped sending keep their last totals, so a later reappearance is not double counted. */
function carryOver(
  from: Map<string, Map<string, VariantTotals>>,
  into: Map<string, Map<string, VariantTotals>>,
): void {
  for (const [canary, byVariant] of from) {
    for (const [variant, s] of byVariant) {
      if (!into.get(canary)?.has(variant)) setTotals(into, canary, variant, s);
    }
  }
}

type WireSketch = { count: bigint; zeroCount: bigint; sum: number; indexes: number[]; counts: bigint[] };

/**
 * later - earlier for two cumulative wire sketches (indexes ascending, checked by bounds), by one
 * merge walk; only changed buckets are allocated. Null when anything went backwards.
 */
function sketchDelta(later: WireSketch | undefined, earlier: WireSketch | undefined): Sketch | null {
  const out = emptySketch();
  if (!later) return earlier && earlier.count > 0n ? null : out;
  const count = later.count - (earlier?.count ?? 0n);
  const zero = later.zeroCount - (earlier?.zeroCount ?? 0n);
  if (count < 0n || zero < 0n) return null;
  out.count = Number(count);
  out.zeroCount = Number(zero);
  out.sum = later.sum - (earlier?.sum ?? 0);
  const li = later.indexes;
  const lc = later.counts;
  const ei = earlier?.indexes ?? [];
  const ec = earlier?.counts ?? [];
  let j = 0;
  for (let i = 0; i < li.length; i++) {
    while (j < ei.length && ei[j]! < li[i]!) {
      if (ec[j]! > 0n) return null; // an earlier bucket disappeared
      j++;
    }
    let d = lc[i]!;
    if (j < ei.length && ei[j] === li[i]) d -= ec[j++]!;
    if (d < 0n) return null;
    if (d > 0n) out.buckets.set(li[i]!, Number(d));
  }
  for (; j < ei.length; j++) if (ec[j]! > 0n) return null;
  return out;
}

/** Wire totals since start (first report of an instance) as a delta from zero. */
export function fromZero(t: VariantTotals): VariantStats {
  return deltaOf(t, undefined) as VariantStats;
}

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

/** later - earlier of one (canary, variant); a string naming the field (proto name) that went backwards. */
export function deltaOf(later: VariantTotals, earlier: VariantTotals | undefined): VariantStats | string {
  const d = emptyStats();
  for (const [k, name] of COUNTERS) {
    const v = later[k] - (earlier?.[k] ?? 0n);
    if (v < 0n) return name;
    d[k] = Number(v);
  }
  const latencyUs = sketchDelta(later.latencyUs, earlier?.latencyUs);
  if (!latencyUs) return "latency_us";
  d.latencyUs = latencyUs;
  for (const m of later.metrics) {
    const before = earlier?.metrics.find((x) => x.name === m.name);
    const count = m.count - (before?.count ?? 0n);
    const sketch = sketchDelta(m.sketch, before?.sketch);
    if (count < 0n || !sketch) return `metrics[${m.name}]`;
    if (count > 0n) d.metrics.set(m.name, { count: Number(count), sum: m.sum - (before?.sum ?? 0), sketch });
  }
  for (const m of earlier?.metrics ?? []) {
    if (!later.metrics.some((x) => x.name === m.name)) return `metrics[${m.name}]`;
  }
  return d;
}

function isEmpty(s: VariantStats): boolean {
  for (const [k] of COUNTERS) if (s[k] !== 0) return false;
  return s.latencyUs.count === 0 && s.metrics.size === 0;
}
