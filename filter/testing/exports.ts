// Test-only entry (never part of build/meshcanary.wasm): exposes the pure modules to vitest through
// @assemblyscript/loader. Compiled by test/filter/pure-wasm.ts with filter/testing/asconfig.json.

import { parseConfig } from "../config-json";
import { tableFromDirective } from "../config-table";
import { getCookie } from "../cookies";
import { fmix32 as fmix, fnv1a32 as fnv, stickyBucket as bucket } from "../hash";
import { JsonKind, JsonValue, formatNumber, parseJson, quote } from "../json";
import { record, quantile } from "../sketch";
import { DecisionInput, decide, drawBucket } from "../split";
import { Outcome, isFailure, parseMetricValue, tallyOutcome, totalsJson } from "../tally";
import { DirectiveData, RouteData, SketchData, VariantData, VariantTotalsData } from "../wire";

export function fnv1a32(s: string): u32 {
  return fnv(s);
}

export function fmix32(h: u32): u32 {
  return fmix(h);
}

export function stickyBucket(cohort: string, key: string): u32 {
  return bucket(cohort, key);
}

/** Parses JSON and re-serialises it canonically (`error: <message>` on failure). */
export function jsonRoundTrip(text: string): string {
  const r = parseJson(text);
  if (r.value == null) return "error: " + r.error;
  return serialise(r.value!);
}

function serialise(v: JsonValue): string {
  switch (v.kind) {
    case JsonKind.Null:
      return "null";
    case JsonKind.Bool:
      return v.bool ? "true" : "false";
    case JsonKind.Number:
      return formatNumber(v.num);
    case JsonKind.String:
      return quote(v.str);
    case JsonKind.Array: {
      const parts = new Array<string>();
      for (let i = 0; i < v.items.length; i++) parts.push(serialise(v.items[i]));
      return "[" + parts.join(",") + "]";
    }
    default: {
      const parts = new Array<string>();
      for (let i = 0; i < v.items.length; i++) parts.push(quote(v.keys[i]) + ":" + serialise(v.items[i]));
      return "{" + parts.join(",") + "}";
    }
  }
}

/** Validates a configuration: "" when valid, else the problems joined by "\n". */
export function configErrors(text: string): string {
  return parseConfig(text).errors.join("\n");
}

/** A short summary of a valid configuration (routes, names, ends), for table tests. */
export function configSummary(text: string): string {
  const r = parseConfig(text);
  if (r.config == null) return "invalid";
  const cfg = r.config!;
  let s = cfg.controller != null ? "controller=" + cfg.controller!.authority + "@" + cfg.controller!.intervalMs.toString() : "controller=none";
  const keys = cfg.table.byName.keys();
  keys.sort();
  for (let i = 0; i < keys.length; i++) s += ";" + keys[i] + "->" + cfg.table.byName.get(keys[i]).canary;
  for (let i = 0; i < cfg.table.routes.length; i++) {
    const route = cfg.table.routes[i];
    s += ";" + route.canary + ":" + route.ends.join(",") + ":cohort=" + route.cohort + ":pin=" + route.pinHeader + "/" + route.pinCookie;
  }
  return s;
}

/**
 * The decision for a request to `authority` under config `text`: the variant name, "" when no route
 * matches. Null-able inputs are passed as strings with "\u0000" meaning absent.
 */
export function decideFor(text: string, authority: string, pinHeader: string, pinCookie: string, stickyKey: string, draw: u32): string {
  const r = parseConfig(text);
  if (r.config == null) return "invalid config";
  const route = r.config!.table.lookup(authority);
  if (route == null) return "";
  const input = new DecisionInput();
  if (pinHeader != "\0") input.pinHeader = pinHeader;
  if (pinCookie != "\0") input.pinCookie = pinCookie;
  if (stickyKey != "\0") input.stickyKey = stickyKey;
  return route.variants[decide(route, input, draw)];
}

export function randomBucket(bits: u32): u32 {
  return drawBucket(bits);
}

/** Builds a table from a Directive with one route of the given weights ("," separated) and names. */
export function directiveErrors(host: string, canary: string, names: string, weights: string): string {
  const d = new DirectiveData();
  d.version = 7;
  const route = new RouteData();
  route.host = host;
  route.canary = canary;
  const n = names.split(",");
  const w = weights.split(",");
  for (let i = 0; i < n.length; i++) {
    const v = new VariantData();
    v.name = n[i];
    v.weightBp = i < w.length ? <u32>parseInt(w[i]) : 0;
    route.variants.push(v);
  }
  d.routes.push(route);
  const t = tableFromDirective(d);
  if (t.table != null) return "ok v" + t.table!.version.toString();
  return t.errors.join("\n");
}

/** Builds a table from a Directive whose one valid route carries `marker`: "ok v7" or the errors. */
export function directiveMarkerErrors(marker: string): string {
  const d = new DirectiveData();
  d.version = 7;
  const route = new RouteData();
  route.host = "reviews";
  route.canary = "default/reviews";
  route.marker = marker;
  const v = new VariantData();
  v.name = "stable";
  v.weightBp = 10000;
  route.variants.push(v);
  d.routes.push(route);
  const t = tableFromDirective(d);
  if (t.table != null) return "ok v" + t.table!.version.toString();
  return t.errors.join("\n");
}

/**
 * Builds a table from a Directive of one route per host in `hosts` ("," separated; canary
 * "ns/r<i>"), each with stable/canary weights from `weights` ("stable:canary" per route, ","
 * separated). Returns the canaries kept (",") + "|" + the dropped count + "|" + the errors ("\n").
 */
export function directiveKept(hosts: string, weights: string): string {
  const d = new DirectiveData();
  d.version = 9;
  const h = hosts.split(",");
  const w = weights.split(",");
  for (let i = 0; i < h.length; i++) {
    const route = new RouteData();
    route.host = h[i];
    route.canary = "ns/r" + i.toString();
    const pair = w[i].split(":");
    for (let v = 0; v < 2; v++) {
      const variant = new VariantData();
      variant.name = v == 0 ? "stable" : "canary";
      variant.weightBp = <u32>parseInt(pair[v]);
      route.variants.push(variant);
    }
    d.routes.push(route);
  }
  const t = tableFromDirective(d);
  const kept = new Array<string>();
  if (t.table != null) for (let i = 0; i < t.table!.routes.length; i++) kept.push(t.table!.routes[i].canary);
  return kept.join(",") + "|" + t.dropped.toString() + "|" + t.errors.join("\n");
}

/** The named cookie's value, or "\u0000" when absent. */
export function cookie(header: string, name: string): string {
  const v = getCookie(header, name);
  return v != null ? v! : "\0";
}

let sketch = new SketchData();

export function sketchReset(): void {
  sketch = new SketchData();
}

export function sketchAdd(v: f64): void {
  record(sketch, v);
}

export function sketchQuantile(q: f64): f64 {
  return quantile(sketch, q);
}

export function sketchBuckets(): i32 {
  return sketch.indexes.length;
}

export function sketchIndexesSorted(): bool {
  for (let i = 1; i < sketch.indexes.length; i++) if (sketch.indexes[i - 1] >= sketch.indexes[i]) return false;
  return true;
}

/** Whether an outcome (code -1 = none) is a failure for a route with failureCodes "a,b". */
export function failure(code: i32, flags: u64, failureCodes: string): bool {
  const o = new Outcome();
  o.code = code;
  o.flags = flags;
  const codes = new Array<u32>();
  if (failureCodes.length > 0) {
    const parts = failureCodes.split(",");
    for (let i = 0; i < parts.length; i++) codes.push(<u32>parseInt(parts[i]));
  }
  return isFailure(o, codes);
}

export function metricValue(s: string): f64 {
  return parseMetricValue(s);
}

let tallyTotals = new VariantTotalsData();

/** Starts a tally for the first route of config `text`, variant 0. */
export function tallyReset(): void {
  tallyTotals = new VariantTotalsData();
}

/** Tallies one outcome under config `text` (first route), with one metric value (NaN = absent). */
export function tallyAdd(text: string, code: i32, flags: u64, durationNs: i64, bytes: u64, metric: f64): void {
  const r = parseConfig(text);
  if (r.config == null || r.config!.table.routes.length == 0) return;
  const o = new Outcome();
  o.code = code;
  o.flags = flags;
  o.durationNs = durationNs;
  o.responseBytes = bytes;
  o.metrics.push(metric);
  tallyOutcome(tallyTotals, r.config!.table.routes[0], o);
}

export function tallyJson(): string {
  return totalsJson(tallyTotals);
}
