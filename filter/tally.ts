// Per (canary, variant) tallies (DESIGN §3 "Tallies"), accumulated into wire.ts VariantTotalsData
// so the reporter can encode them as they are. Pure AssemblyScript: the host adapter reads the
// properties and headers into an Outcome.

import { Route } from "./config";
import { ensureMetric } from "./totals-binding";
import { record, saturatingAdd } from "./sketch";
import { SketchData, VariantTotalsData } from "./wire";

/**
 * Envoy ResponseFlag bits (envoy/stream_info/stream_info.h) that mean the upstream (the variant)
 * failed to answer properly, so the request counts as a failure even without a 5xx:
 * UH no healthy upstream 0x2, UT upstream timeout 0x4, UR upstream remote reset 0x10,
 * UF upstream connection failure 0x20, UC upstream connection termination 0x40, UO upstream
 * overflow 0x80, NR no route 0x100, URX retry limit exceeded 0x8000, UMSDR max stream duration
 * 0x80000, UPE upstream protocol error 0x800000, NC no cluster 0x1000000, DF DNS failure 0x4000000.
 * Not included: client-side or policy flags (DC downstream termination, LR local reset, RL rate
 * limited, UAEX unauthorized, FI/DI fault injection, SI stream idle timeout, IH, DPE).
 */
export const UPSTREAM_FAILURE_FLAGS: u64 =
  0x2 | 0x4 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x8000 | 0x80000 | 0x800000 | 0x1000000 | 0x4000000;

/** What happened to one request, as read in on_log. */
export class Outcome {
  /** HTTP status, or -1 when there was no response code. */
  code: i32 = -1;
  /** Envoy response.flags bit vector (read only for codes 100–499: any other code is a failure already). */
  flags: u64 = 0;
  /** Nanoseconds from routing the request (on_request_headers) to on_log, or -1 when unknown. */
  durationNs: i64 = -1;
  /** Response body bytes that passed the filter (counted in on_response_body). */
  responseBytes: u64 = 0;
  /** Values of the route's metric headers, parallel to Route.metricNames; NaN when absent. */
  metrics: Array<f64> = [];

  /** Back to "nothing known", so the host adapter can reuse one outcome for every request. */
  reset(): void {
    this.code = -1;
    this.flags = 0;
    this.durationNs = -1;
    this.responseBytes = 0;
    this.metrics.length = 0;
  }
}

/** Whether an outcome is a failure: no (valid) response, 5xx, an upstream-failure flag or a configured code. */
export function isFailure(o: Outcome, failureCodes: Array<u32>): bool {
  if (o.code < 100 || o.code > 599) return true;
  if (o.code >= 500) return true;
  if ((o.flags & UPSTREAM_FAILURE_FLAGS) != 0) return true;
  return failureCodes.includes(<u32>o.code);
}

/** Adds one request's outcome to `t`; returns whether it was a failure. */
export function tallyOutcome(t: VariantTotalsData, route: Route, o: Outcome): bool {
  t.requests++;
  countStatus(t, o.code);
  const failed = isFailure(o, route.failureCodes);
  if (failed) t.failures++;
  if (o.durationNs >= 0) record(t.latencyUs, <f64>o.durationNs / 1000.0);
  t.responseBytes += o.responseBytes;
  const n = min(o.metrics.length, route.metricNames.length);
  for (let i = 0; i < n; i++) {
    const v = o.metrics[i];
    if (isNaN(v)) continue;
    const m = ensureMetric(t, route.metricNames[i]);
    m.count++;
    m.sum = saturatingAdd(m.sum, v);
    record(m.sketch, v);
  }
  return failed;
}

function countStatus(t: VariantTotalsData, code: i32): void {
  if (code >= 100 && code < 200) t.status1xx++;
  else if (code >= 200 && code < 300) t.status2xx++;
  else if (code >= 300 && code < 400) t.status3xx++;
  else if (code >= 400 && code < 500) t.status4xx++;
  else if (code >= 500 && code < 600) t.status5xx++;
  else t.statusNone++;
}

/**
 * Parses a numeric metric header value (decimal, optional sign, fraction and exponent, surrounding
 * spaces allowed); NaN for anything else, so junk from the upstream is skipped, not counted as 0.
 */
export function parseMetricValue(s: string): f64 {
  let from = 0;
  let to = s.length;
  while (from < to && s.charCodeAt(from) == 0x20) from++;
  while (to > from && s.charCodeAt(to - 1) == 0x20) to--;
  if (from == to || to - from > 64) return NaN;
  let digits = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) digits++;
    else if (c != 0x2e && c != 0x2d && c != 0x2b && c != 0x65 && c != 0x45) return NaN;
  }
  if (digits == 0) return NaN;
  const v = parseFloat(s.substring(from, to));
  return isFinite(v) ? v : NaN;
}

/** A tally as JSON (test and debugging output; the real report is protobuf via filter/report.ts). */
export function totalsJson(t: VariantTotalsData): string {
  let s = '{"canary":' + jsonString(t.canary) + ',"variant":' + jsonString(t.variant);
  s += ',"requests":' + t.requests.toString() + ',"failures":' + t.failures.toString();
  s += ',"statusNone":' + t.statusNone.toString() + ',"status1xx":' + t.status1xx.toString();
  s += ',"status2xx":' + t.status2xx.toString() + ',"status3xx":' + t.status3xx.toString();
  s += ',"status4xx":' + t.status4xx.toString() + ',"status5xx":' + t.status5xx.toString();
  s += ',"responseBytes":' + t.responseBytes.toString() + ',"latencyUs":' + sketchJson(t.latencyUs);
  s += ',"metrics":[';
  for (let i = 0; i < t.metrics.length; i++) {
    const m = t.metrics[i];
    if (i > 0) s += ",";
    s += '{"name":' + jsonString(m.name) + ',"count":' + m.count.toString() + ',"sum":' + f64Json(m.sum);
    s += ',"sketch":' + sketchJson(m.sketch) + "}";
  }
  return s + "]}";
}

function sketchJson(k: SketchData): string {
  let s = '{"count":' + k.count.toString() + ',"zeroCount":' + k.zeroCount.toString() + ',"sum":' + f64Json(k.sum);
  s += ',"indexes":[' + k.indexes.join(",") + '],"counts":[' + k.counts.join(",") + "]}";
  return s;
}

function f64Json(v: f64): string {
  if (!isFinite(v)) return "0";
  if (Math.floor(v) == v && Math.abs(v) < 9007199254740992) return (<i64>v).toString();
  return v.toString();
}

function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) out += "\\" + String.fromCharCode(c);
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += String.fromCharCode(c);
  }
  return out + '"';
}
