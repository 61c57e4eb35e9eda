// Adding one worker's tally deltas into the proxy's cumulative totals (DESIGN §3 "Workers share one
// report"), and clearing the deltas once they are stored. Pure AssemblyScript.

import { addToBucket, saturatingAdd } from "./sketch";
import { addSlow, clearSlow } from "./slow-counts";
import { addUserGroups, clearUserGroups } from "./user-groups";
import { CounterEntry, MetricTotalsData, SketchData, VariantTotalsData } from "./wire";

/** Whether a tally holds nothing to flush. */
export function isEmptyTotals(t: VariantTotalsData): bool {
  return t.requests == 0 && t.responseBytes == 0 && t.latencyUs.count == 0 && !hasMetricData(t);
}

function hasMetricData(t: VariantTotalsData): bool {
  for (let i = 0; i < t.metrics.length; i++) if (t.metrics[i].count != 0) return true;
  return false;
}

/** Adds sketch `from` into `into` (bucket-wise; the sketch is mergeable by construction). */
export function mergeSketch(into: SketchData, from: SketchData): void {
  into.count += from.count;
  into.zeroCount += from.zeroCount;
  into.sum = saturatingAdd(into.sum, from.sum);
  for (let i = 0; i < from.indexes.length; i++) addToBucket(into, from.indexes[i], from.counts[i]);
}

/** Adds `delta` into the entry of `list` with the same (canary, variant), appending one if missing. */
export function mergeTotals(list: Array<VariantTotalsData>, delta: VariantTotalsData): void {
  let t: VariantTotalsData | null = null;
  for (let i = 0; i < list.length; i++) {
    if (list[i].canary == delta.canary && list[i].variant == delta.variant) {
      t = list[i];
      break;
    }
  }
  if (t == null) {
    const fresh = new VariantTotalsData();
    fresh.canary = delta.canary;
    fresh.variant = delta.variant;
    list.push(fresh);
    t = fresh;
  }
  addTotals(t, delta);
}

function addTotals(t: VariantTotalsData, d: VariantTotalsData): void {
  t.requests += d.requests;
  t.statusNone += d.statusNone;
  t.status1xx += d.status1xx;
  t.status2xx += d.status2xx;
  t.status3xx += d.status3xx;
  t.status4xx += d.status4xx;
  t.status5xx += d.status5xx;
  t.failures += d.failures;
  t.responseBytes += d.responseBytes;
  mergeSketch(t.latencyUs, d.latencyUs);
  addUserGroups(t, d);
  addSlow(t, d);
  for (let i = 0; i < d.metrics.length; i++) {
    const dm = d.metrics[i];
    if (dm.count == 0 && dm.sketch.count == 0) continue;
    const m = metricNamed(t, dm.name);
    m.count += dm.count;
    m.sum = saturatingAdd(m.sum, dm.sum);
    mergeSketch(m.sketch, dm.sketch);
  }
}

function metricNamed(t: VariantTotalsData, name: string): MetricTotalsData {
  for (let i = 0; i < t.metrics.length; i++) if (t.metrics[i].name == name) return t.metrics[i];
  const m = new MetricTotalsData();
  m.name = name;
  t.metrics.push(m);
  return m;
}

/** Zeroes a tally in place (routes keep pointing at it); metric entries stay, emptied. */
export function clearTotals(t: VariantTotalsData): void {
  t.requests = 0;
  t.statusNone = 0;
  t.status1xx = 0;
  t.status2xx = 0;
  t.status3xx = 0;
  t.status4xx = 0;
  t.status5xx = 0;
  t.failures = 0;
  t.responseBytes = 0;
  clearSketch(t.latencyUs);
  clearUserGroups(t);
  clearSlow(t);
  for (let i = 0; i < t.metrics.length; i++) {
    const m = t.metrics[i];
    m.count = 0;
    m.sum = 0;
    clearSketch(m.sketch);
  }
}

function clearSketch(s: SketchData): void {
  s.count = 0;
  s.zeroCount = 0;
  s.sum = 0;
  s.indexes = new Array<i32>();
  s.counts = new Array<u64>();
}

/**
 * Whether `later` counts nothing `earlier` does not: cumulative totals only grow, so equal request,
 * byte, latency and metric counts mean no new data since `earlier`.
 */
export function sameCounts(later: VariantTotalsData, earlier: VariantTotalsData): bool {
  if (later.requests != earlier.requests || later.responseBytes != earlier.responseBytes) return false;
  if (later.latencyUs.count != earlier.latencyUs.count) return false;
  for (let i = 0; i < later.metrics.length; i++) {
    const m = later.metrics[i];
    let before: u64 = 0;
    for (let j = 0; j < earlier.metrics.length; j++) if (earlier.metrics[j].name == m.name) before = earlier.metrics[j].count;
    if (m.count != before) return false;
  }
  return true;
}

/**
 * Removes from `registry` (a VM's tallies since its last flush) the empty entries of canaries not in
 * `routed`: a canary that left the routing table costs nothing once its last deltas were flushed.
 * A late on_log for it adds to an entry no longer flushed: the canary is over.
 */
export function forgetUnrouted(registry: Map<string, VariantTotalsData>, routed: Set<string>): void {
  const keys = registry.keys();
  for (let i = 0; i < keys.length; i++) {
    const t = registry.get(keys[i]);
    if (!routed.has(t.canary) && isEmptyTotals(t)) registry.delete(keys[i]);
  }
}

/** Adds `value` to the counter `key` in `list`, appending it if missing. */
export function addCounter(list: Array<CounterEntry>, key: string, value: u64): void {
  for (let i = 0; i < list.length; i++) {
    if (list[i].key == key) {
      list[i].value += value;
      return;
    }
  }
  const c = new CounterEntry();
  c.key = key;
  c.value = value;
  list.push(c);
}
