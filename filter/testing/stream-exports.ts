// Test entry for the reporting side's pure modules (test/stream/pure.test.ts): backoff, lease,
// merge, pair encoding, proxy state. Not part of the filter build.

import { backoffDelayMs } from "../backoff";
import { formatLease, mayTakeLease, parseLease } from "../lease";
import { clearTotals, mergeTotals } from "../merge";
import { encodePairs } from "../pairs";
import { decodeProxyState, encodeProxyState, FLAG_DELIVERED, newProxyState, nextSeq } from "../proxy-state";
import { record } from "../sketch";
import { totalsJson } from "../tally";
import { VariantTotalsData } from "../wire";

export function backoff(attempt: u32, bits: u32): u32 {
  return backoffDelayMs(attempt, bits);
}

/** "holder|expiry" or "null". */
export function leaseParse(text: string): string {
  const l = parseLease(text);
  return l == null ? "null" : l.holder + "|" + l.expiryMs.toString();
}

export function leaseFormat(holder: string, expiryMs: i64): string {
  return formatLease(holder, expiryMs);
}

export function leaseMayTake(text: string, me: string, nowMs: i64): bool {
  return mayTakeLease(parseLease(text), me, nowMs);
}

/** Pairs of "k=v" joined by "&" → serialized pair list. */
export function pairs(spec: string): ArrayBuffer {
  const keys = new Array<string>();
  const values = new Array<string>();
  if (spec.length > 0) {
    const items = spec.split("&");
    for (let i = 0; i < items.length; i++) {
      const eq = items[i].indexOf("=");
      keys.push(items[i].substring(0, eq));
      values.push(items[i].substring(eq + 1));
    }
  }
  return encodePairs(keys, values);
}

function tally(variant: string, requests: u64, latencies: Array<f64>): VariantTotalsData {
  const t = new VariantTotalsData();
  t.canary = "default/reviews";
  t.variant = variant;
  t.requests = requests;
  t.status2xx = requests;
  for (let i = 0; i < latencies.length; i++) record(t.latencyUs, latencies[i]);
  return t;
}

/** Merges deltas (stable 2 + canary 1, then stable 3) into an empty list; the list as JSON. */
export function mergeExample(): string {
  const list = new Array<VariantTotalsData>();
  const a = tally("stable", 2, [10, 1000]);
  mergeTotals(list, a);
  mergeTotals(list, tally("canary", 1, [0.5]));
  mergeTotals(list, tally("stable", 3, [10, 10, 5000]));
  clearTotals(a);
  let s = "[";
  for (let i = 0; i < list.length; i++) s += (i > 0 ? "," : "") + totalsJson(list[i]);
  return s + "]|" + totalsJson(a);
}

/** nextSeq before and after delivery, through an encode/decode round trip: "seq1,seq2,id". */
export function seqExample(storedSeq: u64): string {
  const s = newProxyState("abc123", 1700000000000);
  s.report.seq = storedSeq;
  const undelivered = decodeProxyState(encodeProxyState(s))!;
  s.flags = FLAG_DELIVERED;
  const delivered = decodeProxyState(encodeProxyState(s))!;
  return nextSeq(undelivered).toString() + "," + nextSeq(delivered).toString() + "," + delivered.report.reporter.instanceId;
}

/** Whether garbage decodes to null (never a trap). */
export function stateRejects(bytes: ArrayBuffer): bool {
  return decodeProxyState(bytes) == null;
}
