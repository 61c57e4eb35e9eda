// The filter configuration (docs/filter-config.md): JSON or a controller Directive, validated into
// a RoutingTable. Every problem is reported with its field path; a configuration with any problem
// is rejected as a whole. Pure AssemblyScript: no host imports.

import { cohortPrefix } from "./hash";
import { JsonKind, JsonValue, formatNumber, parseJson, quote } from "./json";
import { LlmConfig, buildLlm, readLlm } from "./llm-config";
import { LLM_METRICS } from "./llm-tally";
import { isMarker } from "./marker";
import {
  DirectiveData,
  MetricTotalsData,
  PinData,
  ResponseMetricData,
  RouteData,
  StickyData,
  VariantData,
  VariantTotalsData,
} from "./wire";

/** Defaults from docs/filter-config.md. */
export const DEFAULT_PIN_HEADER = "x-meshcanary-pin";
/** What Envoy appends to the host of a mirrored request's authority (before any port). */
export const SHADOW_SUFFIX = "-shadow";
export const DEFAULT_PIN_COOKIE = "meshcanary-pin";
export const DEFAULT_INTERVAL_MS: u32 = 1000;
/** Far above any mesh's canaries (each route is a few hundred bytes); a Directive's extra routes are dropped. */
const MAX_ROUTES = 4096;
const MAX_VARIANTS = 8;
const MAX_METRICS = 8;
const TOTAL_WEIGHT: u32 = 10000;

/** Where and how to report to the controller. */
export class ControllerConfig {
  /** Envoy cluster name of the controller's gRPC port. */
  cluster: string = "";
  /** `:authority` of the stream (default: the FQDN part of the cluster name). */
  authority: string = "";
  /** Report interval in milliseconds (100..60000). */
  intervalMs: u32 = DEFAULT_INTERVAL_MS;
  /** Env var whose value is sent as `x-meshcanary-token`; empty for none. */
  tokenEnv: string = "";
}

/** One canary's routing rules, validated and ready for the per-request decision. */
export class Route {
  /** Configured host, lower-cased. */
  host: string = "";
  /** The host carries Envoy's mirror suffix ("-shadow"): the route tallies a shadow's copies. */
  shadow: bool = false;
  /** `<namespace>/<name>`: the tallies key. */
  canary: string = "";
  /** Variant names in order (stable first, canary last). */
  variants: Array<string> = [];
  /** Weights in basis points, parallel to variants; they sum to 10000. */
  weights: Array<u32> = [];
  /** Exclusive upper end of each variant's bucket range: variant i owns [ends[i-1], ends[i]). */
  ends: Array<u32> = [];
  /** Pin header name (lower-case). */
  pinHeader: string = DEFAULT_PIN_HEADER;
  /** Pin cookie name. */
  pinCookie: string = DEFAULT_PIN_COOKIE;
  /** Pins only count as a valid signed token (filter/pin-token.ts); plain variant names are ignored. */
  requireToken: bool = false;
  /** This Canary's own pin-token key (filter/pin-secret.ts), set by the host adapter; empty: the shared one. */
  pinSecret: Uint8Array = new Uint8Array(0);
  /** Sticky key header (lower-case), or empty. */
  stickyHeader: string = "";
  /** Sticky key cookie, or empty. */
  stickyCookie: string = "";
  /** Sticky hash salt. */
  cohort: string = "";
  /** Names of numeric response metrics, parallel to metricHeaders. */
  metricNames: Array<string> = [];
  /** Response headers carrying those metrics (lower-case). */
  metricHeaders: Array<string> = [];
  /** Status codes counted as failures besides 5xx. */
  failureCodes: Array<u32> = [];
  /** LLM response-body metrics (docs/llm.md); null = the body is not scanned. */
  llm: LlmConfig | null = null;
  /** Cumulative tallies per variant (bound by bindTotals; shared across reconfigurations). */
  totals: Array<VariantTotalsData> = [];
  /** Envoy counter ids per variant (0 = not defined), set by the host adapter. */
  requestCounters: Array<u32> = [];
  failureCounters: Array<u32> = [];
  /** The rollout's marker (filter/marker.ts), set on every request routed here; empty: none. */
  marker: string = "";
  markerValue: ArrayBuffer = new ArrayBuffer(0);
  /** UTF-8 of pinHeader / stickyHeader / each variant / each metric header, encoded once by the host adapter. */
  pinHeaderKey: ArrayBuffer = new ArrayBuffer(0);
  stickyHeaderKey: ArrayBuffer = new ArrayBuffer(0);
  variantValues: Array<ArrayBuffer> = [];
  metricHeaderKeys: Array<ArrayBuffer> = [];

  /** cohortPrefix(cohort), kept with the cohort string it was computed for (by identity). */
  private prefixOf: string | null = null;
  private prefix: u32 = 0;

  /** The sticky hash state after this route's cohort (filter/hash.ts cohortPrefix), computed once. */
  cohortPrefix(): u32 {
    if (changetype<usize>(this.prefixOf) != changetype<usize>(this.cohort)) {
      this.prefix = cohortPrefix(this.cohort);
      this.prefixOf = this.cohort;
    }
    return this.prefix;
  }

  /** Index of the variant called `name`, or -1. */
  variantIndex(name: string): i32 {
    for (let i = 0; i < this.variants.length; i++) {
      if (this.variants[i] == name) return i;
    }
    return -1;
  }
}

/** All routes, indexed by every name they answer to. */
export class RoutingTable {
  /** Directive version (0 for plugin configuration). */
  version: u64 = 0;
  routes: Array<Route> = [];
  byName: Map<string, Route> = new Map();

  /** The route for an `:authority` value (port stripped, lower-cased), or null. */
  lookup(authority: string): Route | null {
    const name = hostOf(authority);
    return this.byName.has(name) ? this.byName.get(name) : null;
  }
}

/** A whole validated configuration. */
export class FilterConfig {
  /** Null: route and count, but do not report. */
  controller: ControllerConfig | null = null;
  /** Env var holding the pin-token HMAC secret; empty for none. */
  pinSecretEnv: string = "";
  /** The pin-token HMAC key: UTF-8 of that env var's value, set by the host (empty: none). */
  pinSecret: Uint8Array = new Uint8Array(0);
  /**
   * The receiving side of a shadow (the canary pods' inbound): only shadow routes count there, so
   * a request the caller's filter already tallied is not tallied twice; elsewhere shadow routes are
   * ignored, so a caller cannot pass its requests off as mirrored copies.
   */
  shadowReceiver: bool = false;
  table: RoutingTable = new RoutingTable();
}

/** A configuration or the list of problems (each starting with its field path). */
export class ConfigResult {
  config: FilterConfig | null = null;
  errors: Array<string> = [];
}

/** A routing table or the list of problems. */
export class TableResult {
  table: RoutingTable | null = null;
  errors: Array<string> = [];
  /** Routes left out of `table` (per-route validation only): their problems are in `errors`. */
  dropped: i32 = 0;
}

/** `:authority` → host: port stripped (also for `[v6]:port`), lower-cased. */
export function hostOf(authority: string): string {
  let end = authority.length;
  for (let i = authority.length - 1; i >= 0; i--) {
    const c = authority.charCodeAt(i);
    if (c == 0x3a) {
      end = i;
      break;
    }
    if (c < 0x30 || c > 0x39) break;
  }
  const host = end == authority.length ? authority : authority.substring(0, end);
  return lowerAscii(host);
}

/** ASCII lower-casing that allocates only when something changes. */
export function lowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return s.toLowerCase();
  }
  return s;
}

// ---- JSON → plain data (type errors) ------------------------------------------------------------

/** Reads plugin configuration JSON into plain data, collecting every problem with its path. */
export class Reader {
  errors: Array<string> = [];

  problem(path: string, message: string): void {
    this.errors.push(path + ": " + message);
  }

  /** An optional string member; null when absent, a problem when not a (non-empty) string. */
  str(obj: JsonValue, key: string, path: string, required: bool): string | null {
    const v = obj.get(key);
    const p = path + "." + key;
    if (v == null) {
      if (required) this.problem(p, "is required");
      return null;
    }
    if (v.kind != JsonKind.String || v.str.length == 0) {
      this.problem(p, "must be a non-empty string, got " + v.describe());
      return null;
    }
    return v.str;
  }

  /** An optional integer member in [min, max]; `fallback` when absent or invalid. */
  int(obj: JsonValue, key: string, path: string, min: f64, max: f64, fallback: f64): f64 {
    const v = obj.get(key);
    if (v == null) return fallback;
    return this.intValue(v, path + "." + key, min, max, fallback);
  }

  intValue(v: JsonValue, p: string, min: f64, max: f64, fallback: f64): f64 {
    if (v.kind != JsonKind.Number || Math.floor(v.num) != v.num || v.num < min || v.num > max) {
      this.problem(p, "must be an integer " + formatNumber(min) + ".." + formatNumber(max) + ", got " + v.describe());
      return fallback;
    }
    return v.num;
  }

  /** An optional object member; null when absent or not an object (then a problem). */
  obj(parent: JsonValue, key: string, path: string): JsonValue | null {
    const v = parent.get(key);
    if (v == null) return null;
    if (v.kind != JsonKind.Object) {
      this.problem(path + "." + key, "must be an object, got " + v.describe());
      return null;
    }
    return v;
  }

  /** An optional array member; null when absent or not an array (then a problem). */
  arr(parent: JsonValue, key: string, path: string): JsonValue | null {
    const v = parent.get(key);
    if (v == null) return null;
    if (v.kind != JsonKind.Array) {
      this.problem(path + "." + key, "must be an array, got " + v.describe());
      return null;
    }
    return v;
  }
}

function readController(r: Reader, o: JsonValue): ControllerConfig {
  const c = new ControllerConfig();
  const cluster = r.str(o, "cluster", "controller", true);
  if (cluster != null) c.cluster = cluster;
  const authority = r.str(o, "authority", "controller", false);
  c.authority = authority != null ? authority : authorityFromCluster(c.cluster);
  c.intervalMs = <u32>r.int(o, "intervalMs", "controller", 100, 60000, DEFAULT_INTERVAL_MS);
  const tokenEnv = r.str(o, "tokenEnv", "controller", false);
  if (tokenEnv != null) c.tokenEnv = tokenEnv;
  return c;
}

/** `outbound|9090||fqdn` → `fqdn`; a plain name stays as it is. */
export function authorityFromCluster(cluster: string): string {
  const bar = cluster.lastIndexOf("|");
  return bar < 0 ? cluster : cluster.substring(bar + 1);
}

function readRoute(r: Reader, o: JsonValue, p: string): RouteData {
  const d = new RouteData();
  const host = r.str(o, "host", p, true);
  if (host != null) d.host = host;
  const aliases = r.arr(o, "aliases", p);
  if (aliases != null) {
    for (let i = 0; i < aliases.items.length; i++) {
      const a = aliases.items[i];
      if (a.kind != JsonKind.String || a.str.length == 0) {
        r.problem(p + ".aliases[" + i.toString() + "]", "must be a non-empty string, got " + a.describe());
      } else d.aliases.push(a.str);
    }
  }
  const canary = r.str(o, "canary", p, true);
  if (canary != null) d.canary = canary;
  readVariants(r, o, p, d);
  readPin(r, o, p, d.pin);
  readSticky(r, o, p, d.sticky);
  const cohort = r.str(o, "cohort", p, false);
  if (cohort != null) d.cohort = cohort;
  readMetrics(r, o, p, d);
  const codes = r.arr(o, "failureCodes", p);
  if (codes != null) {
    for (let i = 0; i < codes.items.length; i++) {
      const code = r.intValue(codes.items[i], p + ".failureCodes[" + i.toString() + "]", 100, 599, 0);
      if (code != 0) d.failureCodes.push(<u32>code);
    }
  }
  d.llm = readLlm(r, o, p);
  return d;
}

function readVariants(r: Reader, o: JsonValue, p: string, d: RouteData): void {
  const variants = r.arr(o, "variants", p);
  if (variants == null) {
    if (o.get("variants") == null) r.problem(p + ".variants", "is required");
    return;
  }
  for (let i = 0; i < variants.items.length; i++) {
    const vp = p + ".variants[" + i.toString() + "]";
    const v = variants.items[i];
    const vd = new VariantData();
    if (v.kind != JsonKind.Object) {
      r.problem(vp, "must be an object, got " + v.describe());
      d.variants.push(vd);
      continue;
    }
    const name = r.str(v, "name", vp, true);
    if (name != null) vd.name = name;
    if (v.get("weight") == null) r.problem(vp + ".weight", "is required");
    vd.weightBp = <u32>r.int(v, "weight", vp, 0, 10000, 0);
    d.variants.push(vd);
  }
}

function readPin(r: Reader, o: JsonValue, p: string, pin: PinData): void {
  const po = r.obj(o, "pin", p);
  if (po == null) return;
  const pp = p + ".pin";
  const header = r.str(po, "header", pp, false);
  if (header != null) pin.header = header;
  const cookie = r.str(po, "cookie", pp, false);
  if (cookie != null) pin.cookie = cookie;
  const rt = po.get("requireToken");
  if (rt != null) {
    if (rt.kind != JsonKind.Bool) r.problem(pp + ".requireToken", "must be true or false, got " + rt.describe());
    else pin.requireToken = rt.bool;
  }
}

function readSticky(r: Reader, o: JsonValue, p: string, sticky: StickyData): void {
  const so = r.obj(o, "sticky", p);
  if (so == null) return;
  const sp = p + ".sticky";
  const header = r.str(so, "header", sp, false);
  if (header != null) sticky.header = header;
  const cookie = r.str(so, "cookie", sp, false);
  if (cookie != null) sticky.cookie = cookie;
  if (so.get("header") == null && so.get("cookie") == null) r.problem(sp, "needs exactly one of header, cookie");
}

function readMetrics(r: Reader, o: JsonValue, p: string, d: RouteData): void {
  const metrics = r.arr(o, "metrics", p);
  if (metrics == null) return;
  for (let i = 0; i < metrics.items.length; i++) {
    const mp = p + ".metrics[" + i.toString() + "]";
    const m = metrics.items[i];
    const md = new ResponseMetricData();
    if (m.kind != JsonKind.Object) {
      r.problem(mp, "must be an object, got " + m.describe());
    } else {
      const name = r.str(m, "name", mp, true);
      if (name != null) md.name = name;
      const header = r.str(m, "header", mp, true);
      if (header != null) md.header = header;
    }
    d.metrics.push(md);
  }
}

/** Parses and validates plugin configuration text (empty text = no routes, no reporting). */
export function parseConfig(text: string): ConfigResult {
  const result = new ConfigResult();
  const cfg = new FilterConfig();
  if (isBlank(text)) {
    result.config = cfg;
    return result;
  }
  const parsed = parseJson(text);
  if (parsed.value == null) {
    result.errors.push(parsed.error);
    return result;
  }
  const root = parsed.value!;
  if (root.kind != JsonKind.Object) {
    result.errors.push("configuration: must be a JSON object, got " + root.describe());
    return result;
  }
  const r = new Reader();
  const c = r.obj(root, "controller", "");
  if (c != null) cfg.controller = readController(r, c);
  const secret = r.str(root, "pinSecretEnv", "", false);
  if (secret != null) cfg.pinSecretEnv = secret;
  const receiver = root.get("shadowReceiver");
  if (receiver != null) {
    if (receiver.kind != JsonKind.Bool) r.problem(".shadowReceiver", "must be true or false, got " + receiver.describe());
    else cfg.shadowReceiver = receiver.bool;
  }
  const routes = new Array<RouteData>();
  const ra = r.arr(root, "routes", "");
  if (ra != null) {
    for (let i = 0; i < ra.items.length; i++) {
      const p = "routes[" + i.toString() + "]";
      const o = ra.items[i];
      if (o.kind != JsonKind.Object) r.problem(p, "must be an object, got " + o.describe());
      else routes.push(readRoute(r, o, p));
    }
  }
  // Shape problems are reported first; the semantic rules (buildTable) run once the shape is right.
  // Top-level paths were built as ".key"; drop the leading dot.
  for (let i = 0; i < r.errors.length; i++) {
    const e = r.errors[i];
    result.errors.push(e.startsWith(".") ? e.substring(1) : e);
  }
  if (result.errors.length > 0) return result;
  const t = buildTable(routes, 0);
  if (t.table == null) {
    result.errors = t.errors;
    return result;
  }
  cfg.table = t.table!;
  result.config = cfg;
  return result;
}

/**
 * Problems with the pin-token secret: a requireToken route without its Canary's own secret
 * (filter/pin-secret.ts) needs `pinSecretEnv` naming an env var (WasmPlugin `vmConfig.env`) with a
 * non-empty value. `secret` is that value, null when unset.
 */
export function pinSecretErrors(cfg: FilterConfig, secret: string | null): Array<string> {
  const errors = new Array<string>();
  const routes = cfg.table.routes;
  for (let i = 0; i < routes.length; i++) {
    if (!routes[i].requireToken || routes[i].pinSecret.length > 0) continue;
    const needer = "routes[" + i.toString() + "].pin.requireToken";
    if (cfg.pinSecretEnv.length == 0) {
      errors.push("pinSecretEnv: is required when " + needer + " is true and its Canary has no secret of its own");
    } else if (secret == null || secret.length == 0) {
      errors.push(
        "pinSecretEnv: environment variable " + quote(cfg.pinSecretEnv) +
          " is unset or empty (set it in the WasmPlugin vmConfig.env); " + needer + " needs it",
      );
    }
    break;
  }
  return errors;
}

function isBlank(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return false;
  }
  return true;
}

/**
 * Validates a controller Directive into a routing table (same rules as plugin configuration), route
 * by route: an invalid route, one claiming a host an earlier route holds, or one past the limit is
 * left out and named in `errors`; the valid routes are applied.
 */
export function tableFromDirective(d: DirectiveData): TableResult {
  return buildTable(d.routes, d.version, true);
}

// ---- plain data → RoutingTable (semantic rules shared by JSON and Directive) ---------------------

/**
 * Validates routes and builds the table. Any problem rejects the whole table, unless `perRoute`:
 * then each problem leaves out only its route (TableResult.dropped counts them).
 */
export function buildTable(routes: Array<RouteData>, version: u64, perRoute: bool = false): TableResult {
  const result = new TableResult();
  const errors = result.errors;
  const table = new RoutingTable();
  table.version = version;
  if (routes.length > MAX_ROUTES) {
    errors.push("routes: at most " + MAX_ROUTES.toString() + " routes, got " + routes.length.toString());
  }
  const n = perRoute && routes.length > MAX_ROUTES ? MAX_ROUTES : routes.length;
  result.dropped = routes.length - n;
  for (let i = 0; i < n; i++) {
    const p = "routes[" + i.toString() + "]";
    const before = errors.length;
    const route = buildRoute(routes[i], p, errors);
    const names = claimableNames(table, route, routes[i].aliases, p, errors);
    if (perRoute && errors.length > before) {
      result.dropped++;
      continue;
    }
    table.routes.push(route);
    for (let k = 0; k < names.length; k++) table.byName.set(names[k], route);
  }
  // Derived short names never override an explicit host or alias; the first route claiming one wins.
  for (let i = 0; i < table.routes.length; i++) {
    const shortNames = derivedNames(table.routes[i].host);
    for (let k = 0; k < shortNames.length; k++) {
      if (!table.byName.has(shortNames[k])) table.byName.set(shortNames[k], table.routes[i]);
    }
  }
  // A Directive of nothing but bad routes keeps the last good table rather than clearing it.
  const usable = errors.length == 0 || (perRoute && (table.routes.length > 0 || routes.length == 0));
  if (usable) result.table = table;
  return result;
}

/** The host and aliases of `route`; each one an earlier route already holds is an error instead. */
function claimableNames(
  table: RoutingTable,
  route: Route,
  aliases: Array<string>,
  path: string,
  errors: Array<string>,
): Array<string> {
  const names = new Array<string>();
  claimName(table, route.host, path + ".host", names, errors);
  for (let a = 0; a < aliases.length; a++) {
    claimName(table, lowerAscii(aliases[a]), path + ".aliases[" + a.toString() + "]", names, errors);
  }
  return names;
}

function claimName(table: RoutingTable, name: string, path: string, names: Array<string>, errors: Array<string>): void {
  if (name.length == 0 || names.includes(name)) return;
  if (table.byName.has(name)) {
    errors.push(path + ": host " + quote(name) + " is already used by canary " + quote(table.byName.get(name).canary));
    return;
  }
  names.push(name);
}

/** For `name.ns.svc.<domain>`: `name`, `name.ns`, `name.ns.svc`. */
export function derivedNames(host: string): Array<string> {
  const out = new Array<string>();
  const parts = host.split(".");
  if (parts.length < 4 || parts[2] != "svc" || parts[0].length == 0 || parts[1].length == 0) return out;
  out.push(parts[0]);
  out.push(parts[0] + "." + parts[1]);
  out.push(parts[0] + "." + parts[1] + ".svc");
  return out;
}

function buildRoute(d: RouteData, p: string, errors: Array<string>): Route {
  const r = new Route();
  r.host = lowerAscii(d.host);
  if (r.host.length == 0) errors.push(p + ".host: must be a non-empty string");
  r.shadow = r.host.endsWith(SHADOW_SUFFIX);
  r.canary = d.canary;
  if (!isCanaryName(d.canary)) {
    errors.push(p + '.canary: must be "<namespace>/<name>", got ' + quote(d.canary));
  }
  buildVariants(d.variants, p, r, errors);
  r.marker = d.marker;
  if (d.marker.length > 0 && !isMarker(d.marker)) {
    errors.push(p + ".marker: must be 32 lower-case hex digits, got " + quote(d.marker));
  }
  r.pinHeader = d.pin.header.length > 0 ? lowerAscii(d.pin.header) : DEFAULT_PIN_HEADER;
  r.pinCookie = d.pin.cookie.length > 0 ? d.pin.cookie : DEFAULT_PIN_COOKIE;
  r.requireToken = d.pin.requireToken;
  if (d.sticky.header.length > 0 && d.sticky.cookie.length > 0) {
    errors.push(p + ".sticky: needs exactly one of header, cookie, got both");
  }
  r.stickyHeader = lowerAscii(d.sticky.header);
  r.stickyCookie = d.sticky.cookie;
  r.cohort = d.cohort.length > 0 ? d.cohort : d.canary;
  buildMetrics(d.metrics, p, r, errors);
  for (let i = 0; i < d.failureCodes.length; i++) {
    const code = d.failureCodes[i];
    if (code < 100 || code > 599) {
      errors.push(p + ".failureCodes[" + i.toString() + "]: must be an integer 100..599, got " + code.toString());
    }
    r.failureCodes.push(code);
  }
  const llm = d.llm;
  if (llm != null) r.llm = buildLlm(llm, p, errors);
  return r;
}

function buildVariants(variants: Array<VariantData>, p: string, r: Route, errors: Array<string>): void {
  const n = variants.length;
  if (n < 1 || n > MAX_VARIANTS) {
    errors.push(p + ".variants: must have 1.." + MAX_VARIANTS.toString() + " entries, got " + n.toString());
  }
  let sum: u64 = 0;
  for (let i = 0; i < n; i++) {
    const vp = p + ".variants[" + i.toString() + "]";
    const v = variants[i];
    if (!isVariantName(v.name)) {
      errors.push(vp + ".name: must match [a-z0-9]([-a-z0-9]*[a-z0-9])? (at most 63 characters), got " + quote(v.name));
    } else if (r.variantIndex(v.name) >= 0) {
      errors.push(vp + ".name: duplicate variant " + quote(v.name));
    }
    if (v.weightBp > TOTAL_WEIGHT) {
      errors.push(vp + ".weight: must be an integer 0..10000, got " + v.weightBp.toString());
    }
    sum += v.weightBp;
    r.variants.push(v.name);
    r.weights.push(v.weightBp);
    r.ends.push(<u32>min(sum, <u64>TOTAL_WEIGHT));
  }
  if (n > 0 && sum != <u64>TOTAL_WEIGHT) {
    errors.push(p + ".variants: weights must sum to 10000, got " + sum.toString());
  }
}

function buildMetrics(metrics: Array<ResponseMetricData>, p: string, r: Route, errors: Array<string>): void {
  if (metrics.length > MAX_METRICS) {
    errors.push(p + ".metrics: at most " + MAX_METRICS.toString() + " entries, got " + metrics.length.toString());
  }
  for (let i = 0; i < metrics.length; i++) {
    const mp = p + ".metrics[" + i.toString() + "]";
    const m = metrics[i];
    if (m.name.length == 0) errors.push(mp + ".name: must be a non-empty string");
    else if (r.metricNames.includes(m.name)) errors.push(mp + ".name: duplicate metric " + quote(m.name));
    if (m.header.length == 0) errors.push(mp + ".header: must be a non-empty string");
    r.metricNames.push(m.name);
    r.metricHeaders.push(lowerAscii(m.header));
  }
}

/** `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters (a Kubernetes label value / subset name). */
export function isVariantName(s: string): bool {
  const n = s.length;
  if (n == 0 || n > 63) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
    if (!alnum && !(c == 0x2d && i > 0 && i < n - 1)) return false;
  }
  return true;
}

function isCanaryName(s: string): bool {
  const slash = s.indexOf("/");
  return slash > 0 && slash < s.length - 1 && s.indexOf("/", slash + 1) < 0;
}

// ---- tallies binding --------------------------------------------------------------------------

/**
 * Points each route variant at its cumulative tallies in `registry` (keyed by canary + "\n" + variant),
 * creating missing entries, so tallies survive reconfiguration.
 */
export function bindTotals(table: RoutingTable, registry: Map<string, VariantTotalsData>): void {
  for (let i = 0; i < table.routes.length; i++) {
    const route = table.routes[i];
    route.totals = [];
    for (let v = 0; v < route.variants.length; v++) {
      const key = route.canary + "\n" + route.variants[v];
      let t: VariantTotalsData;
      if (registry.has(key)) {
        t = registry.get(key);
      } else {
        t = new VariantTotalsData();
        t.canary = route.canary;
        t.variant = route.variants[v];
        registry.set(key, t);
      }
      for (let m = 0; m < route.metricNames.length; m++) ensureMetric(t, route.metricNames[m]);
      if (route.llm != null) for (let m = 0; m < LLM_METRICS.length; m++) ensureMetric(t, LLM_METRICS[m]);
      route.totals.push(t);
    }
  }
}

/** The metric totals named `name` in `t`, created if missing. */
export function ensureMetric(t: VariantTotalsData, name: string): MetricTotalsData {
  for (let i = 0; i < t.metrics.length; i++) {
    if (t.metrics[i].name == name) return t.metrics[i];
  }
  const m = new MetricTotalsData();
  m.name = name;
  t.metrics.push(m);
  return m;
}
