// Workers share one report (DESIGN §3): each worker VM adds its tally deltas into the proxy state in
// shared data with a bounded CAS loop, and clears its deltas only after a successful write, so a
// lost race retries instead of losing or doubling counts. Also the seq bump the reporter makes.

import { CAS_MISMATCH, LOG_WARN, NOT_FOUND, OK, getShared, log, nowMs, randomHex, setShared } from "./host-io";
import { addCounter, clearTotals, isEmptyTotals, mergeTotals, sameCounts } from "./merge";
import { FLAG_DELIVERED, ProxyState, decodeProxyState, encodeProxyState, newProxyState, nextSeq } from "./proxy-state";
import { pruneSlow } from "./slow-counts";
import { CounterEntry, ReportData, VariantTotalsData } from "./wire";

/** Shared-data key of the proxy state. */
export const STATE_KEY = "meshcanary.state";
/** CAS attempts per update before giving up until the next tick (deltas are kept). */
const MAX_CAS_ATTEMPTS = 8;

/** The current state and the cas to write it back with (0 = absent: first writer). */
class StateRead {
  state: ProxyState | null = null;
  cas: u32 = 0;
  ok: bool = false;
}

function readState(): StateRead {
  const r = new StateRead();
  const v = getShared(STATE_KEY);
  if (v.result == NOT_FOUND) {
    r.ok = true;
    return r;
  }
  if (v.result != OK) return r;
  r.ok = true;
  r.cas = v.cas;
  r.state = decodeProxyState(v.value);
  // A malformed value is replaced by a fresh instance (the controller sees a restart, not garbage).
  if (r.state == null) log(LOG_WARN, "meshcanary: shared state unreadable; starting a new instance");
  return r;
}

function freshState(): ProxyState {
  return newProxyState(randomHex(4), nowMs());
}

/** Creates the proxy state if no worker has yet (called at configure time, before traffic). */
export function ensureState(): void {
  const r = readState();
  if (r.ok && r.state == null) setShared(STATE_KEY, encodeProxyState(freshState()), r.cas);
}

/** Whether a worker has anything to flush. */
function hasDeltas(registry: Map<string, VariantTotalsData>, counters: Array<CounterEntry>): bool {
  if (counters.length > 0) return true;
  const values = registry.values();
  for (let i = 0; i < values.length; i++) if (!isEmptyTotals(values[i])) return true;
  return false;
}

/** Adds this worker's deltas to the shared totals; clears them on success. Returns whether stored. */
export function flushTallies(registry: Map<string, VariantTotalsData>, counters: Array<CounterEntry>): bool {
  if (!hasDeltas(registry, counters)) return true;
  const values = registry.values();
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const r = readState();
    if (!r.ok) return false;
    const state = r.state != null ? r.state! : freshState();
    for (let i = 0; i < values.length; i++) {
      if (!isEmptyTotals(values[i])) mergeTotals(state.report.totals, values[i]);
    }
    for (let i = 0; i < counters.length; i++) addCounter(state.report.counters, counters[i].key, counters[i].value);
    const res = setShared(STATE_KEY, encodeProxyState(state), r.cas);
    if (res == OK) {
      for (let i = 0; i < values.length; i++) clearTotals(values[i]);
      counters.length = 0;
      return true;
    }
    if (res != CAS_MISMATCH) return false;
  }
  return false;
}

/**
 * Reserves the next seq (CAS) and returns the report snapshot carrying it, or null.
 *
 * A canary not in `routed` (the routing table applied now; null: unknown) whose totals equal their
 * delivered baseline is forgotten in the same write: the report that leaves it out is the one that
 * forgets it. A worker flushing a late delta for it afterwards restarts it from zero in a later
 * report, which the controller (having seen it left out) counts from zero. Forgetting at any other
 * moment (e.g. when a Directive arrives, with the table it replaces) let a late delta restart it
 * in a report the controller compared with its old totals: dropped as counters going backwards,
 * until the new totals passed the old.
 */
export function takeReport(routed: Set<string> | null): ReportData | null {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const r = readState();
    if (!r.ok) return null;
    const state = r.state != null ? r.state! : freshState();
    if (routed != null && state.delivered()) forgetDelivered(state.report, routed);
    pruneSlow(state.report);
    state.report.seq = nextSeq(state);
    const res = setShared(STATE_KEY, encodeProxyState(state), r.cas);
    if (res == OK) return state.report;
    if (res != CAS_MISMATCH) return null;
  }
  return null;
}

/**
 * Records that `sent` (the last report sent on the stream; null if none) reached the controller: seq
 * increments from now on, and its totals become the baseline of the first report on the next stream
 * and what takeReport compares unrouted canaries with. A report of another instance (the state was
 * replaced since) leaves the baseline alone.
 */
export function markDelivered(sent: ReportData | null): void {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const r = readState();
    if (!r.ok || r.state == null) return;
    const state = r.state!;
    const ours = sent != null && sent.reporter.instanceId == state.report.reporter.instanceId;
    if (state.delivered() && !ours) return;
    state.flags |= FLAG_DELIVERED;
    if (ours) state.report.baseline = sent!.totals;
    const res = setShared(STATE_KEY, encodeProxyState(state), r.cas);
    if (res != CAS_MISMATCH) return;
  }
}

/**
 * Drops the unrouted canaries' entries of `report` (totals and baseline) that equal their baseline:
 * their last totals were delivered, so memory and report size stay bounded however many canaries
 * come and go. The controller forgets an entry a report no longer carries.
 */
function forgetDelivered(report: ReportData, routed: Set<string>): void {
  const kept = new Array<VariantTotalsData>();
  const totals = report.totals;
  let forgot = false;
  for (let i = 0; i < totals.length; i++) {
    const t = totals[i];
    const delivered = entryOf(report.baseline, t);
    if (!routed.has(t.canary) && delivered != null && sameCounts(t, delivered)) forgot = true;
    else kept.push(t);
  }
  if (!forgot) return;
  report.totals = kept;
  const baseline = new Array<VariantTotalsData>();
  for (let i = 0; i < report.baseline.length; i++) {
    if (entryOf(kept, report.baseline[i]) != null) baseline.push(report.baseline[i]);
  }
  report.baseline = baseline;
}

function entryOf(list: Array<VariantTotalsData>, like: VariantTotalsData): VariantTotalsData | null {
  for (let i = 0; i < list.length; i++) {
    if (list[i].canary == like.canary && list[i].variant == like.variant) return list[i];
  }
  return null;
}
