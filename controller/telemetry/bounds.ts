/**
 * Validation of a Report before ingest (DESIGN §4): sizes, counts, sketch shape, known canaries and
 * namespace ownership. Pure: returns the first violation as a value, naming the field path and value.
 */
import type { Report, Sketch, VariantTotals } from "../gen/meshcanary/v1/telemetry_pb.js";

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
  /** When true, a reporter may only report canaries of its own namespace (unless allow-listed). */
  enforceNamespace: boolean;
  /** Reporter namespaces allowed to report for canaries of any namespace (e.g. a shared gateway). */
  crossNamespaceAllowed: ReadonlySet<string>;
  /** Whether a canary id ("<namespace>/<name>") is one the controller manages. */
  isKnownCanary(id: string): boolean;
}

export const DEFAULT_BOUNDS: Omit<BoundsConfig, "isKnownCanary"> = {
  maxMessageBytes: 4 * 1024 * 1024,
  maxTotals: 512,
  maxVariantsPerCanary: 8,
  maxSketchBuckets: 4096,
  maxMetricsPerVariant: 8,
  maxCounters: 64,
  maxStringLength: 253,
  enforceNamespace: true,
  crossNamespaceAllowed: new Set(),
};

/** Why a Report was refused: a stable reason (for counters) plus the offending field path and value. */
export interface Violation {
  reason: string;
  field: string;
  value: string;
}

/** Largest counter value carried exactly by a JS number; beyond it deltas would be wrong. */
const MAX_COUNTER = BigInt(Number.MAX_SAFE_INTEGER);

function violation(reason: string, field: string, value: unknown): Violation {
  return { reason, field, value: String(value) };
}

/** The first bound the Report breaks, or null when it is acceptable. */
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
  for (const key of ["pod", "namespace", "workload", "instanceId", "filterVersion"] as const) {
    if (rep[key].length > cfg.maxStringLength) return tooLong(`reporter.${key}`, rep[key]);
  }
  if (r.totals.length > cfg.maxTotals) {
    return violation("too_many_totals", "totals", `${r.totals.length} entries > ${cfg.maxTotals}`);
  }
  const counters = Object.keys(r.counters);
  if (counters.length > cfg.maxCounters) {
    return violation("too_many_counters", "counters", `${counters.length} entries > ${cfg.maxCounters}`);
  }
  for (const k of counters) if (k.length > cfg.maxStringLength) return tooLong("counters", k);
  const variantsPerCanary = new Map<string, Set<string>>();
  for (let i = 0; i < r.totals.length; i++) {
    const v = checkTotals(r.totals[i]!, `totals[${i}]`, rep.namespace, cfg, variantsPerCanary);
    if (v) return v;
  }
  return null;
}

function tooLong(field: string, value: string): Violation {
  return violation("string_too_long", field, `${value.slice(0, 64)}… (${value.length} chars)`);
}

function checkTotals(
  t: VariantTotals,
  path: string,
  reporterNamespace: string,
  cfg: BoundsConfig,
  variantsPerCanary: Map<string, Set<string>>,
): Violation | null {
  if (t.canary.length > cfg.maxStringLength) return tooLong(`${path}.canary`, t.canary);
  if (t.variant.length > cfg.maxStringLength) return tooLong(`${path}.variant`, t.variant);
  if (t.variant === "") return violation("missing_variant", `${path}.variant`, '""');
  if (!cfg.isKnownCanary(t.canary)) return violation("unknown_canary", `${path}.canary`, t.canary);
  const canaryNamespace = t.canary.slice(0, t.canary.indexOf("/"));
  if (
    cfg.enforceNamespace &&
    canaryNamespace !== reporterNamespace &&
    !cfg.crossNamespaceAllowed.has(reporterNamespace)
  ) {
    return violation(
      "foreign_namespace",
      `${path}.canary`,
      `${t.canary} (reporter namespace ${reporterNamespace})`,
    );
  }
  let variants = variantsPerCanary.get(t.canary);
  if (!variants) {
    variants = new Set();
    variantsPerCanary.set(t.canary, variants);
  }
  if (variants.has(t.variant))
    return violation("duplicate_variant", `${path}.variant`, `${t.canary} ${t.variant}`);
  variants.add(t.variant);
  if (variants.size > cfg.maxVariantsPerCanary) {
    return violation(
      "too_many_variants",
      `${path}.variant`,
      `${t.canary}: ${variants.size} > ${cfg.maxVariantsPerCanary}`,
    );
  }
  const counts: [string, bigint][] = [
    ["requests", t.requests],
    ["status_none", t.statusNone],
    ["status_1xx", t.status1xx],
    ["status_2xx", t.status2xx],
    ["status_3xx", t.status3xx],
    ["status_4xx", t.status4xx],
    ["status_5xx", t.status5xx],
    ["failures", t.failures],
    ["response_bytes", t.responseBytes],
  ];
  for (const [name, n] of counts)
    if (n > MAX_COUNTER) return violation("counter_range", `${path}.${name}`, n);
  const latency = checkSketch(t.latencyUs, `${path}.latency_us`, cfg);
  if (latency) return latency;
  if (t.metrics.length > cfg.maxMetricsPerVariant) {
    return violation(
      "too_many_metrics",
      `${path}.metrics`,
      `${t.metrics.length} > ${cfg.maxMetricsPerVariant}`,
    );
  }
  const names = new Set<string>();
  for (let j = 0; j < t.metrics.length; j++) {
    const m = t.metrics[j]!;
    const mPath = `${path}.metrics[${j}]`;
    if (m.name === "" || m.name.length > cfg.maxStringLength)
      return violation("bad_metric_name", `${mPath}.name`, m.name);
    if (names.has(m.name)) return violation("duplicate_metric", `${mPath}.name`, m.name);
    names.add(m.name);
    if (m.count > MAX_COUNTER) return violation("counter_range", `${mPath}.count`, m.count);
    if (!Number.isFinite(m.sum)) return violation("bad_sum", `${mPath}.sum`, m.sum);
    const s = checkSketch(m.sketch, `${mPath}.sketch`, cfg);
    if (s) return s;
  }
  return null;
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
  let total = 0n;
  for (let i = 0; i < n; i++) {
    if (i > 0 && s.indexes[i]! <= s.indexes[i - 1]!) {
      return violation("sketch_order", `${path}.indexes[${i}]`, `${s.indexes[i]} after ${s.indexes[i - 1]}`);
    }
    total += s.counts[i]!;
  }
  if (total !== s.count - s.zeroCount) {
    return violation(
      "sketch_counts",
      `${path}.counts`,
      `sum ${total} != count ${s.count} - zero_count ${s.zeroCount}`,
    );
  }
  return null;
}
