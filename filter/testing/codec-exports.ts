// Test entry (not part of the filter build): exposes the wire codec to the vitest suites in
// test/telemetry/ through @assemblyscript/loader. Bytes in, bytes out.
import { decodeDirective, decodeReport, encodeDirective, encodeReport, lastDecodeError } from "../report";
import {
  CounterEntry,
  DirectiveData,
  MetricTotalsData,
  ReportData,
  ResponseMetricData,
  RouteData,
  SketchData,
  SlowThresholdData,
  SlowTotalsData,
  VariantData,
  VariantTotalsData,
} from "../wire";

/** Decode a Report and encode it again; null when it does not decode. */
export function reportRoundTrip(buf: ArrayBuffer): ArrayBuffer | null {
  const r = decodeReport(buf);
  return r == null ? null : encodeReport(r);
}

/** Decode a Directive and encode it again; null when it does not decode. */
export function directiveRoundTrip(buf: ArrayBuffer): ArrayBuffer | null {
  const d = decodeDirective(buf);
  return d == null ? null : encodeDirective(d);
}

/** 1 when the bytes decode as a Directive, 0 when rejected. */
export function probeDirective(buf: ArrayBuffer): i32 {
  return decodeDirective(buf) == null ? 0 : 1;
}

/** 1 when the bytes decode as a Report, 0 when rejected. */
export function probeReport(buf: ArrayBuffer): i32 {
  return decodeReport(buf) == null ? 0 : 1;
}

export function decodeError(): string {
  return lastDecodeError();
}

function sketch(n: i32, k: i32): SketchData {
  const s = new SketchData();
  const buckets = (n + k) % 5;
  let total: u64 = 0;
  for (let b = 0; b < buckets; b++) {
    s.indexes.push(-40 + b * 37 + n);
    const c = <u64>(b + 1) * <u64>(n + 1) * 1000;
    s.counts.push(c);
    total += c;
  }
  s.zeroCount = <u64>(n % 3);
  s.count = total + s.zeroCount;
  s.sum = <f64>total * 12.5 + <f64>n / 7.0;
  return s;
}

/** Entry i of the totals of report n (same recipe as totalsEntry() in test/telemetry/fixtures.ts). */
function totalsEntry(n: i32, i: i32): VariantTotalsData {
  const t = new VariantTotalsData();
  t.canary = "ns/c" + i.toString();
  t.variant = i % 2 == 0 ? "stable" : "canary";
  t.requests = <u64>(n + 1) * <u64>(i + 1) * 1000003;
  t.statusNone = <u64>i;
  t.status2xx = t.requests - <u64>i;
  t.status5xx = <u64>(n % 7);
  t.failures = u64.MAX_VALUE - <u64>n;
  t.latencyUs = sketch(n, i);
  t.responseBytes = <u64>n * 4096;
  if (i % 2 == 1) {
    const m = new MetricTotalsData();
    m.name = "tokens";
    m.count = <u64>(n + i);
    m.sum = <f64>(n + i) * 1.5;
    m.sketch = sketch(n, i + 1);
    t.metrics.push(m);
    // Slow counts: one threshold with trailing groups at zero, one with none slower.
    const slow = new SlowTotalsData();
    slow.thresholdUs = <u64>(n + 1) * 1000;
    slow.byGroup[0] = <u64>n;
    slow.byGroup[5] = <u64>(i + 1);
    t.slow.push(slow);
    const none = new SlowTotalsData();
    none.thresholdUs = 0x20000000000000 - 1;
    t.slow.push(none);
  }
  return t;
}

/** A Report built from `n` by the same recipe as buildReport() in test/telemetry/fixtures.ts. */
export function buildReport(n: i32): ArrayBuffer {
  const r = new ReportData();
  r.reporter.pod = "pod-" + n.toString();
  r.reporter.namespace = "ns";
  r.reporter.workload = "wl-é✓";
  r.reporter.instanceId = "inst-" + n.toString();
  r.reporter.startTimeUnixMs = 1700000000000 + <i64>n;
  r.reporter.filterVersion = "0.1.0";
  r.seq = <u64>n;
  r.sentUnixMs = -(<i64>n);
  r.routingVersion = <u64>(n * 3);
  for (let i = 0; i < n % 4; i++) r.totals.push(totalsEntry(n, i));
  // Odd n carry a baseline: the totals of report n - 1.
  if (n % 2 == 1) for (let i = 0; i < (n - 1) % 4; i++) r.baseline.push(totalsEntry(n - 1, i));
  const c = new CounterEntry();
  c.key = "config_rejected";
  c.value = <u64>n;
  r.counters.push(c);
  return encodeReport(r);
}

/** A Directive built from `n` by the same recipe as buildDirective() in test/telemetry/fixtures.ts. */
export function buildDirective(n: i32): ArrayBuffer {
  const d = new DirectiveData();
  d.version = <u64>n + 0x100000000;
  d.reportIntervalMs = <u32>(n % 2) * 500;
  for (let i = 0; i < (n % 3) + 1; i++) {
    const rt = new RouteData();
    rt.host = "svc" + i.toString() + ".ns.svc.cluster.local";
    for (let a = 0; a < i; a++) rt.aliases.push("alias" + a.toString());
    rt.canary = "ns/svc" + i.toString();
    const stable = new VariantData();
    stable.name = "stable";
    stable.weightBp = <u32>(10000 - n);
    const canary = new VariantData();
    canary.name = "canary";
    canary.weightBp = <u32>n;
    rt.variants.push(stable);
    rt.variants.push(canary);
    rt.pin.header = "x-meshcanary-pin";
    rt.pin.cookie = "meshcanary-pin";
    rt.pin.requireToken = i % 2 == 1;
    rt.sticky.header = i % 2 == 0 ? "x-user-id" : "";
    rt.sticky.cookie = i % 2 == 1 ? "uid" : "";
    rt.cohort = "cohort-" + n.toString();
    if (i > 0) {
      const m = new ResponseMetricData();
      m.name = "tokens";
      m.header = "x-llm-total-tokens";
      rt.metrics.push(m);
      rt.failureCodes.push(429);
      rt.failureCodes.push(<u32>(400 + i));
      const slow = new SlowThresholdData();
      slow.variant = "canary";
      slow.thresholdUs = <u64>(n + 1) * 1500;
      rt.slowThresholds.push(slow);
    }
    d.routes.push(rt);
  }
  return encodeDirective(d);
}
