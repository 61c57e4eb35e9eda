/**
 * Validation of a Report before ingest (DESIGN §4), in two levels so one bad entry never poisons the
 * rest: `checkReport` refuses the message only when it is unusable as a whole (size, reporter, entry
 * counts); `checkEntries` names each (canary, variant) entry that must be dropped (unknown canary,
 * impossible counts, broken sketch) while the others are used. Pure: violations are values naming the
 * field path and value. Which namespace a reporter is in says nothing about which Canaries it may
 * report: a client-side filter reports for every service it calls, the ingress gateway for all.
 */
import type { Report, Sketch, VariantTotals } from "../gen/meshcanary/v1/telemetry_pb.js";
import { COUNTERS } from "./last-totals.js";

/** Limits and policy applied to every Report. */
export interface BoundsConfig {
  /** Largest accepted encoded Report, bytes. */
  maxMessageBytes: number;
  /** Most (canary, variant) entries in one Report. */
  maxTotals: number;
  /** Most variants of one canary in one Report. */
  maxVariantsPerCanary: number;
  /** Most buckets in one sketch. */
  maxSketchBuckets: number;
  /** Most custom metrics per variant entry. */
  maxMetricsPerVariant: number;
  /** Most filter health counters in one Report. */
  maxCounters: number;
  /** Longest accepted string field, UTF-16 code units. */
  maxStringLength: number;
  /** Whether a canary id ("<namespace>/<name>") is one the controller manages. */
  isKnownCanary(id: string): boolean;
}

export const DEFAULT_BOUNDS: Omit<BoundsConfig, "isKnownCanary"> = {
  maxMessageBytes: 4 * 1024 * 1024,
  maxTotals: 512,
  maxVariantsPerCanary: 8,
  maxSketchBuckets: 4096,
  // 8 response-header metrics plus the 9 llm-* body metrics (docs/llm.md).
  maxMetricsPerVariant: 17,
  maxCounters: 64,
  maxStringLength: 253,
};

/** Why a Report or entry was refused: a stable reason (for counters) plus the offending field path and value. */
export interface Violation {
  reason: string;
  field: string;
  value: string;
}

/** An entry of a Report's `totals` or `baseline` that validation drops, and why. */
export interface DroppedEntry {
  list: "totals" | "baseline";
  index: number;
  violation: Violation;
}

/** Shared result when nothing is dropped (the common case allocates nothing). */
const NO_DROPS: readonly DroppedEntry[] = Object.freeze([]);

/** Largest counter value carried exactly by a JS number; beyond it deltas would be wrong. */
const MAX_COUNTER = BigInt(Number.MAX_SAFE_INTEGER);

function violation(reason: string, field: string, value: unknown): Violation {
  return { reason, field, value: String(value) };
}

/** The first bound that makes the Report unusable as a whole, or null (its entries are checked by checkEntries). */
export function checkReport(r: Report, sizeBytes: number, cfg: BoundsConfig): Violation | null {
  if (sizeBytes > cfg.maxMessageBytes) {
    return violation("message_too_large", "report", `${sizeBytes} bytes > ${cfg.maxMessageBytes}`);
  }
  const rep = r.reporter;
  if (!rep || rep.pod === "" || rep.namespace === "" || rep.instanceId === "") {
    return violation(
      "missing_reporter",
      "reporter",
      rep ? `${rep.namespace}/${rep.pod}/${rep.instanceId}` : "absent",
    );
  }
  for (const key of REPORTER_STRINGS) {
    if (rep[key].length > cfg.maxStringLength) return tooLong(`reporter.${key}`, rep[key]);
  }
  if (r.totals.length > cfg.maxTotals) {
    return violation("too_many_totals", "totals", `${r.totals.length} entries > ${cfg.maxTotals}`);
  }
  // Empty except in the first Report on a stream; held to the same bounds as the totals.
  if (r.baseline.length > cfg.maxTotals) {
    return violation("too_many_totals", "baseline", `${r.baseline.length} entries > ${cfg.maxTotals}`);
  }
  return checkCounters(r.counters, cfg);
}

/**
 * The entries of a Report (already passed `checkReport`) to drop, each with its violation; the
 * others are usable. Field paths name the entry ("totals[3].canary").
 */
export function checkEntries(r: Report, cfg: BoundsConfig): readonly DroppedEntry[] {
  let dropped: DroppedEntry[] | null = null;
  for (const list of LISTS) {
    const all = r[list];
    for (let i = 0; i < all.length; i++) {
      const v = checkTotals(all, i, cfg);
      if (!v) continue;
      dropped ??= [];
      dropped.push({ list, index: i, violation: under(`${list}[${i}]`, v) });
    }
  }
  return dropped ?? NO_DROPS;
}

const LISTS = ["totals", "baseline"] as const;

/**
 * The nested checks name fields relative to their entry (".canary") so no path string is built
 * unless something is wrong; this prefixes the entry's own path.
 */
function under(path: string, v: Violation): Violation {
  return { ...v, field: `${path}${v.field}` };
}

const REPORTER_STRINGS = ["pod", "namespace", "workload", "instanceId", "filterVersion"] as const;

/** Counter map size and key lengths; counted without Object.keys, which would allocate per report. */
function checkCounters(counters: Report["counters"], cfg: BoundsConfig): Violation | null {
  let n = 0;
  for (const _ in counters) n++;
  if (n > cfg.maxCounters) {
    return violation("too_many_counters", "counters", `${n} entries > ${cfg.maxCounters}`);
  }
  for (const k in counters) if (k.length > cfg.maxStringLength) return tooLong("counters", k);
  return null;
}

function tooLong(field: string, value: string): Violation {
  return violation("string_too_long", field, `${value.slice(0, 64)}… (${value.length} chars)`);
}

/**
 * totals[i] against the bounds (fields relative to the entry). Duplicates and variants per canary
 * are found by scanning the earlier entries (at most maxTotals²/2 string comparisons) rather than
 * building a Map per Report.
 */
function checkTotals(all: VariantTotals[], i: number, cfg: BoundsConfig): Violation | null {
  const t = all[i]!;
  if (t.canary.length > cfg.maxStringLength) return tooLong(`.canary`, t.canary);
  if (t.variant.length > cfg.maxStringLength) return tooLong(`.variant`, t.variant);
  if (t.variant === "") return violation("missing_variant", `.variant`, '""');
  if (!cfg.isKnownCanary(t.canary)) return violation("unknown_canary", `.canary`, t.canary);
  let variants = 1;
  for (let j = 0; j < i; j++) {
    const o = all[j]!;
    if (o.canary !== t.canary) continue;
    if (o.variant === t.variant)
      return violation("duplicate_variant", `.variant`, `${t.canary} ${t.variant}`);
    variants++;
  }
  if (variants > cfg.maxVariantsPerCanary) {
    return violation(
      "too_many_variants",
      `.variant`,
      `${t.canary}: ${variants} > ${cfg.maxVariantsPerCanary}`,
    );
  }
  for (const [key, name] of COUNTERS) {
    if (t[key] > MAX_COUNTER) return violation("counter_range", `.${name}`, t[key]);
  }
  const latency = checkSketch(t.latencyUs, "", cfg);
  if (latency) return under(".latency_us", latency);
  return checkMetrics(t.metrics, cfg) ?? checkCounts(t);
}

/**
 * Counts no filter can produce: each request is counted once in requests and in exactly one status
 * class, at most once in failures, in the latency sketch and in each metric.
 */
function checkCounts(t: VariantTotals): Violation | null {
  if (t.failures > t.requests) {
    return violation("impossible_counts", ".failures", `${t.failures} > requests ${t.requests}`);
  }
  const classes = t.statusNone + t.status1xx + t.status2xx + t.status3xx + t.status4xx + t.status5xx;
  if (classes !== t.requests) {
    return violation(
      "impossible_counts",
      ".status",
      `status classes sum to ${classes} != requests ${t.requests}`,
    );
  }
  if (t.latencyUs && t.latencyUs.count > t.requests) {
    return violation(
      "impossible_counts",
      ".latency_us.count",
      `${t.latencyUs.count} > requests ${t.requests}`,
    );
  }
  for (let j = 0; j < t.metrics.length; j++) {
    const m = t.metrics[j]!;
    if (m.count > t.requests) {
      return violation("impossible_counts", `.metrics[${j}].count`, `${m.count} > requests ${t.requests}`);
    }
  }
  return null;
}

function checkMetrics(metrics: VariantTotals["metrics"], cfg: BoundsConfig): Violation | null {
  if (metrics.length > cfg.maxMetricsPerVariant) {
    return violation("too_many_metrics", `.metrics`, `${metrics.length} > ${cfg.maxMetricsPerVariant}`);
  }
  for (let j = 0; j < metrics.length; j++) {
    const v = checkMetric(metrics, j, cfg);
    if (v) return under(`.metrics[${j}]`, v);
  }
  return null;
}

/** metrics[j] (fields relative to the metric); names are unique among the earlier metrics. */
function checkMetric(metrics: VariantTotals["metrics"], j: number, cfg: BoundsConfig): Violation | null {
  const m = metrics[j]!;
  if (m.name === "" || m.name.length > cfg.maxStringLength)
    return violation("bad_metric_name", ".name", m.name);
  for (let k = 0; k < j; k++) {
    if (metrics[k]!.name === m.name) return violation("duplicate_metric", ".name", m.name);
  }
  if (m.count > MAX_COUNTER) return violation("counter_range", ".count", m.count);
  if (!Number.isFinite(m.sum)) return violation("bad_sum", ".sum", m.sum);
  const s = checkSketch(m.sketch, "", cfg);
  return s && under(".sketch", s);
}

/** Sketch shape: bounded, strictly ascending indexes, parallel counts summing to count - zero_count. */
export function checkSketch(s: Sketch | undefined, path: string, cfg: BoundsConfig): Violation | null {
  if (!s) return null;
  const n = s.indexes.length;
  if (n > cfg.maxSketchBuckets)
    return violation("sketch_buckets", `${path}.indexes`, `${n} > ${cfg.maxSketchBuckets}`);
  if (s.counts.length !== n) {
    return violation("sketch_shape", `${path}.counts`, `${s.counts.length} counts for ${n} indexes`);
  }
  if (s.count > MAX_COUNTER) return violation("counter_range", `${path}.count`, s.count);
  if (s.zeroCount > s.count)
    return violation("sketch_counts", `${path}.zero_count`, `${s.zeroCount} > count ${s.count}`);
  if (!Number.isFinite(s.sum)) return violation("bad_sum", `${path}.sum`, s.sum);
  // Summed as numbers, not bigints (a bigint sum allocates per bucket). Exact: every addend is at most
  // count <= 2^53 (checked), and a partial sum past count - zero_count stops the walk as a violation.
  const want = Number(s.count) - Number(s.zeroCount);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && s.indexes[i]! <= s.indexes[i - 1]!) {
      return violation("sketch_order", `${path}.indexes[${i}]`, `${s.indexes[i]} after ${s.indexes[i - 1]}`);
    }
    const c = s.counts[i]!;
    total += c > MAX_COUNTER ? Number.POSITIVE_INFINITY : Number(c);
    if (total > want) break;
  }
  if (total !== want) return bucketSumViolation(s, `${path}.counts`);
  return null;
}

function bucketSumViolation(s: Sketch, field: string): Violation {
  let total = 0n;
  for (const c of s.counts) total += c;
  return violation("sketch_counts", field, `sum ${total} != count ${s.count} - zero_count ${s.zeroCount}`);
}
