// Protobuf encoding of the wire contract (proto/meshcanary/v1/telemetry.proto) for the filter:
// Report out, Directive in. decodeReport/encodeDirective exist for round-trip tests.
// Field numbers below are the proto's; keep them in step with it.
import { readLlmMetrics, writeLlmMetrics } from "./llm-wire";
import { Reader, WIRE_LEN, WIRE_VARINT, Writer } from "./protobuf";
import { readSlowThreshold, readSlowTotals, writeSlowThresholds, writeSlowTotals } from "./slow-wire";
import { setUserGroup } from "./user-groups";
import {
  CounterEntry,
  DirectiveData,
  MetricTotalsData,
  PinData,
  ReportData,
  ReporterData,
  ResponseMetricData,
  RouteData,
  SketchData,
  StickyData,
  VariantData,
  VariantTotalsData,
} from "./wire";

let lastError: string = "";

/** Why the last decode returned null ("" after a success). */
export function lastDecodeError(): string {
  return lastError;
}

// ---- encode ----

function writeSketch(w: Writer, field: u32, s: SketchData): void {
  w.begin(field);
  w.uint64Field(1, s.count);
  w.uint64Field(2, s.zeroCount);
  w.doubleField(3, s.sum);
  w.packedSint32(4, s.indexes);
  w.packedUint64(5, s.counts);
  w.end();
}

function writeMetric(w: Writer, m: MetricTotalsData): void {
  w.begin(13);
  w.stringField(1, m.name);
  w.uint64Field(2, m.count);
  w.doubleField(3, m.sum);
  writeSketch(w, 4, m.sketch);
  w.end();
}

function writeTotals(w: Writer, field: u32, t: VariantTotalsData): void {
  w.begin(field);
  w.stringField(1, t.canary);
  w.stringField(2, t.variant);
  w.uint64Field(3, t.requests);
  w.uint64Field(4, t.statusNone);
  w.uint64Field(5, t.status1xx);
  w.uint64Field(6, t.status2xx);
  w.uint64Field(7, t.status3xx);
  w.uint64Field(8, t.status4xx);
  w.uint64Field(9, t.status5xx);
  w.uint64Field(10, t.failures);
  writeSketch(w, 11, t.latencyUs);
  w.uint64Field(12, t.responseBytes);
  for (let i = 0; i < t.metrics.length; i++) writeMetric(w, unchecked(t.metrics[i]));
  for (let g = 0; g < t.groupRequests.length; g++) {
    const n = unchecked(t.groupRequests[g]);
    if (n == 0) continue;
    w.begin(14);
    w.uint64Field(1, <u64>g);
    w.uint64Field(2, n);
    w.uint64Field(3, unchecked(t.groupFailures[g]));
    w.end();
  }
  writeSlowTotals(w, 15, t);
  w.end();
}

function readUserGroup(r: Reader, t: VariantTotalsData): void {
  let g: u64 = 0;
  let requests: u64 = 0;
  let failures: u64 = 0;
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) g = r.uint64();
    else if (f == 2) requests = r.uint64();
    else if (f == 3) failures = r.uint64();
    else r.skip();
  }
  r.leave(outer);
  if (g < 32) setUserGroup(t, <u32>g, requests, failures);
}

function writeReporter(w: Writer, r: ReporterData): void {
  w.begin(1);
  w.stringField(1, r.pod);
  w.stringField(2, r.namespace);
  w.stringField(3, r.workload);
  w.stringField(4, r.instanceId);
  w.int64Field(5, r.startTimeUnixMs);
  w.stringField(6, r.filterVersion);
  w.end();
}

/** Report -> protobuf bytes. */
export function encodeReport(r: ReportData): ArrayBuffer {
  const w = new Writer(512);
  writeReporter(w, r.reporter);
  w.uint64Field(2, r.seq);
  w.int64Field(3, r.sentUnixMs);
  for (let i = 0; i < r.totals.length; i++) writeTotals(w, 4, unchecked(r.totals[i]));
  w.uint64Field(5, r.routingVersion);
  for (let i = 0; i < r.counters.length; i++) {
    const c = unchecked(r.counters[i]);
    w.begin(6);
    // Map entries carry key and value even when zero, as protoc and protobuf-es write them.
    w.stringAlways(1, c.key);
    w.tag(2, WIRE_VARINT);
    w.varint(c.value);
    w.end();
  }
  for (let i = 0; i < r.baseline.length; i++) writeTotals(w, 7, unchecked(r.baseline[i]));
  const out = w.finish();
  w.dispose();
  return out;
}

function writeRoute(w: Writer, r: RouteData): void {
  w.begin(2);
  w.stringField(1, r.host);
  for (let i = 0; i < r.aliases.length; i++) w.stringAlways(2, unchecked(r.aliases[i]));
  w.stringField(3, r.canary);
  for (let i = 0; i < r.variants.length; i++) {
    const v = unchecked(r.variants[i]);
    w.begin(4);
    w.stringField(1, v.name);
    w.uint64Field(2, <u64>v.weightBp);
    w.end();
  }
  w.begin(5);
  w.stringField(1, r.pin.header);
  w.stringField(2, r.pin.cookie);
  w.boolField(3, r.pin.requireToken);
  w.end();
  w.begin(6);
  w.stringField(1, r.sticky.header);
  w.stringField(2, r.sticky.cookie);
  w.end();
  w.stringField(7, r.cohort);
  for (let i = 0; i < r.metrics.length; i++) {
    const m = unchecked(r.metrics[i]);
    w.begin(8);
    w.stringField(1, m.name);
    w.stringField(2, m.header);
    w.end();
  }
  w.packedUint32(9, r.failureCodes);
  w.stringField(10, r.marker);
  const llm = r.llm;
  if (llm != null) writeLlmMetrics(w, 11, llm);
  writeSlowThresholds(w, 12, r);
  w.end();
}

/** Directive -> protobuf bytes (the controller's job in production; here for tests). */
export function encodeDirective(d: DirectiveData): ArrayBuffer {
  const w = new Writer(256);
  w.uint64Field(1, d.version);
  for (let i = 0; i < d.routes.length; i++) writeRoute(w, unchecked(d.routes[i]));
  w.uint64Field(3, <u64>d.reportIntervalMs);
  const out = w.finish();
  w.dispose();
  return out;
}

// ---- decode ----

function readSketch(r: Reader, s: SketchData): void {
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) s.count = r.uint64();
    else if (f == 2) s.zeroCount = r.uint64();
    else if (f == 3) s.sum = r.double();
    else if (f == 4) r.repeatedSint32(s.indexes);
    else if (f == 5) r.repeatedUint64(s.counts);
    else r.skip();
  }
  r.leave(outer);
}

function readMetric(r: Reader): MetricTotalsData {
  const m = new MetricTotalsData();
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) m.name = r.str();
    else if (f == 2) m.count = r.uint64();
    else if (f == 3) m.sum = r.double();
    else if (f == 4 && r.expect(WIRE_LEN)) readSketch(r, m.sketch);
    else r.skip();
  }
  r.leave(outer);
  return m;
}

function readTotals(r: Reader): VariantTotalsData {
  const t = new VariantTotalsData();
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) t.canary = r.str();
    else if (f == 2) t.variant = r.str();
    else if (f == 3) t.requests = r.uint64();
    else if (f == 4) t.statusNone = r.uint64();
    else if (f == 5) t.status1xx = r.uint64();
    else if (f == 6) t.status2xx = r.uint64();
    else if (f == 7) t.status3xx = r.uint64();
    else if (f == 8) t.status4xx = r.uint64();
    else if (f == 9) t.status5xx = r.uint64();
    else if (f == 10) t.failures = r.uint64();
    else if (f == 11 && r.expect(WIRE_LEN)) readSketch(r, t.latencyUs);
    else if (f == 12) t.responseBytes = r.uint64();
    else if (f == 13 && r.expect(WIRE_LEN)) {
      if (r.room(t.metrics.length)) t.metrics.push(readMetric(r));
    } else if (f == 14 && r.expect(WIRE_LEN)) readUserGroup(r, t);
    else if (f == 15 && r.expect(WIRE_LEN)) readSlowTotals(r, t);
    else r.skip();
  }
  r.leave(outer);
  return t;
}

function readReporter(r: Reader, p: ReporterData): void {
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) p.pod = r.str();
    else if (f == 2) p.namespace = r.str();
    else if (f == 3) p.workload = r.str();
    else if (f == 4) p.instanceId = r.str();
    else if (f == 5) p.startTimeUnixMs = <i64>r.uint64();
    else if (f == 6) p.filterVersion = r.str();
    else r.skip();
  }
  r.leave(outer);
}

function readCounter(r: Reader): CounterEntry {
  const c = new CounterEntry();
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) c.key = r.str();
    else if (f == 2) c.value = r.uint64();
    else r.skip();
  }
  r.leave(outer);
  return c;
}

/** Protobuf bytes -> Report, or null (see lastDecodeError). A repeated map key keeps the last value. */
export function decodeReport(buf: ArrayBuffer): ReportData | null {
  const r = new Reader(buf);
  const out = new ReportData();
  while (r.next()) {
    const f = r.field;
    if (f == 1 && r.expect(WIRE_LEN)) readReporter(r, out.reporter);
    else if (f == 2) out.seq = r.uint64();
    else if (f == 3) out.sentUnixMs = <i64>r.uint64();
    else if (f == 4 && r.expect(WIRE_LEN)) {
      if (r.room(out.totals.length)) out.totals.push(readTotals(r));
    } else if (f == 5) out.routingVersion = r.uint64();
    else if (f == 6 && r.expect(WIRE_LEN)) {
      if (r.room(out.counters.length)) putCounter(out.counters, readCounter(r));
    } else if (f == 7 && r.expect(WIRE_LEN)) {
      if (r.room(out.baseline.length)) out.baseline.push(readTotals(r));
    } else r.skip();
  }
  return finishDecode<ReportData>(r, out);
}

function putCounter(list: Array<CounterEntry>, c: CounterEntry): void {
  for (let i = 0; i < list.length; i++) {
    if (unchecked(list[i]).key == c.key) {
      unchecked(list[i]).value = c.value;
      return;
    }
  }
  list.push(c);
}

function readVariant(r: Reader): VariantData {
  const v = new VariantData();
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) v.name = r.str();
    else if (f == 2) v.weightBp = r.uint32();
    else r.skip();
  }
  r.leave(outer);
  return v;
}

function readPin(r: Reader, p: PinData): void {
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) p.header = r.str();
    else if (f == 2) p.cookie = r.str();
    else if (f == 3) p.requireToken = r.bool();
    else r.skip();
  }
  r.leave(outer);
}

function readSticky(r: Reader, s: StickyData): void {
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) s.header = r.str();
    else if (f == 2) s.cookie = r.str();
    else r.skip();
  }
  r.leave(outer);
}

function readResponseMetric(r: Reader): ResponseMetricData {
  const m = new ResponseMetricData();
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) m.name = r.str();
    else if (f == 2) m.header = r.str();
    else r.skip();
  }
  r.leave(outer);
  return m;
}

function readRoute(r: Reader): RouteData {
  const rt = new RouteData();
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) rt.host = r.str();
    else if (f == 2) {
      if (r.room(rt.aliases.length)) rt.aliases.push(r.str());
    } else if (f == 3) rt.canary = r.str();
    else if (f == 4 && r.expect(WIRE_LEN)) {
      if (r.room(rt.variants.length)) rt.variants.push(readVariant(r));
    } else if (f == 5 && r.expect(WIRE_LEN)) readPin(r, rt.pin);
    else if (f == 6 && r.expect(WIRE_LEN)) readSticky(r, rt.sticky);
    else if (f == 7) rt.cohort = r.str();
    else if (f == 8 && r.expect(WIRE_LEN)) {
      if (r.room(rt.metrics.length)) rt.metrics.push(readResponseMetric(r));
    } else if (f == 9) r.repeatedUint32(rt.failureCodes);
    else if (f == 10) rt.marker = r.str();
    else if (f == 11 && r.expect(WIRE_LEN)) rt.llm = readLlmMetrics(r);
    else if (f == 12 && r.expect(WIRE_LEN)) {
      if (r.room(rt.slowThresholds.length)) rt.slowThresholds.push(readSlowThreshold(r));
    } else r.skip();
  }
  r.leave(outer);
  return rt;
}

/** Protobuf bytes -> Directive, or null on malformed input (see lastDecodeError). Never traps. */
export function decodeDirective(buf: ArrayBuffer): DirectiveData | null {
  const r = new Reader(buf);
  const out = new DirectiveData();
  while (r.next()) {
    const f = r.field;
    if (f == 1) out.version = r.uint64();
    else if (f == 2 && r.expect(WIRE_LEN)) {
      if (r.room(out.routes.length)) out.routes.push(readRoute(r));
    } else if (f == 3) out.reportIntervalMs = r.uint32();
    else r.skip();
  }
  return finishDecode<DirectiveData>(r, out);
}

function finishDecode<T>(r: Reader, out: T): T | null {
  if (r.failed()) {
    lastError = r.error;
    return null;
  }
  lastError = "";
  return out;
}
