// The thin adapter between the ABI callbacks and the pure modules: reads configuration, headers and
// properties through the host, applies the decision, tallies outcomes, bumps Envoy counters.
// Every host result code is handled; nothing here may trap on traffic.

import {
  proxy_define_metric,
  proxy_get_buffer_bytes,
  proxy_get_header_map_value,
  proxy_get_property,
  proxy_increment_metric,
  proxy_log,
  proxy_remove_header_map_value,
  proxy_replace_header_map_value,
  proxy_set_tick_period_milliseconds,
  random_get,
} from "./abi/imports";
import { OUT_ID, OUT_PTR, OUT_SIZE, resetOut, takeI64, takeString } from "./abi/memory";
import { DEFAULT_INTERVAL_MS, FilterConfig, Route, bindTotals, parseConfig } from "./config";
import { getCookie } from "./cookies";
import { DecisionInput, decide, drawBucket, needsDraw } from "./split";
import { Outcome, parseMetricValue, tallyOutcome, totalsJson } from "./tally";
import { VariantTotalsData } from "./wire";

// proxy-wasm enums (contract §1.2).
const OK: i32 = 0;
const LOG_DEBUG: i32 = 1;
const LOG_INFO: i32 = 2;
const LOG_ERROR: i32 = 4;
const REQUEST_HEADERS: i32 = 0;
const RESPONSE_HEADERS: i32 = 2;
const PLUGIN_CONFIGURATION: i32 = 7;
const METRIC_COUNTER: i32 = 0;

/** The header the VirtualService routes on. */
export const VARIANT_HEADER = "x-meshcanary-variant";

/**
 * Prefix of the debug log line (level debug) carrying this VM's cumulative tallies as a JSON array,
 * written on every tick. DEBUGGING/TEST PATH ONLY, until the wave-2 reporter streams protobuf totals.
 */
export const DEBUG_TALLIES_PREFIX = "meshcanary: debug tallies ";

const AUTHORITY = String.UTF8.encode(":authority");
const VARIANT = String.UTF8.encode(VARIANT_HEADER);
const COOKIE = String.UTF8.encode("cookie");
const RESPONSE_CODE = String.UTF8.encode("response\0code");
const RESPONSE_FLAGS = String.UTF8.encode("response\0flags");
const RESPONSE_SIZE = String.UTF8.encode("response\0size");
const REQUEST_DURATION = String.UTF8.encode("request\0duration");

/** Per root context: its configuration. */
class RootState {
  config: FilterConfig;
  constructor(config: FilterConfig) {
    this.config = config;
  }
}

/** Per stream: its root and, once decided, the route and variant for on_log. */
class StreamState {
  root: u32;
  route: Route | null = null;
  variant: i32 = -1;
  constructor(root: u32) {
    this.root = root;
  }
}

const roots = new Map<u32, RootState>();
const streams = new Map<u32, StreamState>();
/** The last configuration that validated in this VM; new root contexts start from it. */
let lastGood: FilterConfig = new FilterConfig();
/** Cumulative tallies of this VM per canary + "\n" + variant. */
const totals = new Map<string, VariantTotalsData>();
/** Envoy metric ids by name, reused across reconfigurations. */
const metricIds = new Map<string, u32>();
/** Random bytes from WASI, consumed 4 at a time. */
const RANDOM_SIZE: i32 = 256;
const randomPool = new StaticArray<u8>(RANDOM_SIZE);
let randomPos: i32 = RANDOM_SIZE;
let randomCounter: u32 = 0;

// ---- small host helpers --------------------------------------------------------------------------

/** Logs a message (UTF-8). */
export function log(level: i32, message: string): void {
  const b = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(b), <usize>b.byteLength);
}

function keyBytes(name: string): ArrayBuffer {
  return String.UTF8.encode(name);
}

/** First value of a header, or null (absent, unavailable, or any other result). */
function getHeader(map: i32, key: ArrayBuffer): string | null {
  resetOut();
  const r = proxy_get_header_map_value(map, changetype<usize>(key), <usize>key.byteLength, OUT_PTR, OUT_SIZE);
  if (r != OK) return null;
  return takeString();
}

/** An integer property (8-byte LE), or `fallback` when NotFound/other. */
function getIntProperty(path: ArrayBuffer, fallback: i64): i64 {
  resetOut();
  const r = proxy_get_property(changetype<usize>(path), <usize>path.byteLength, OUT_PTR, OUT_SIZE);
  if (r != OK) return fallback;
  return takeI64(fallback);
}

/** 32 random bits from the buffered WASI pool; a counter-based fallback if random_get fails. */
function randomU32(): u32 {
  if (randomPos + 4 > RANDOM_SIZE) {
    const errno = random_get(changetype<usize>(randomPool), <usize>RANDOM_SIZE);
    if (errno != 0) {
      // Never trap on traffic: degrade to a Weyl sequence (still spreads evenly over buckets).
      randomCounter += 0x9e3779b9;
      return randomCounter;
    }
    randomPos = 0;
  }
  const v = load<u32>(changetype<usize>(randomPool) + <usize>randomPos);
  randomPos += 4;
  return v;
}

function incrementCounter(id: u32): void {
  if (id != 0) proxy_increment_metric(id, 1);
}

/** Envoy counter id for `name`, defined once per VM; 0 if the host refused. */
function counterId(name: string): u32 {
  if (metricIds.has(name)) return metricIds.get(name);
  const b = String.UTF8.encode(name);
  store<u32>(OUT_ID, 0);
  const r = proxy_define_metric(METRIC_COUNTER, changetype<usize>(b), <usize>b.byteLength, OUT_ID);
  const id = r == OK ? load<u32>(OUT_ID) : 0;
  if (id != 0) metricIds.set(name, id);
  return id;
}

/**
 * Envoy counter name for (kind, canary, variant): `meshcanary_<kind>__<namespace>__<name>__<variant>`.
 * Envoy stores it as `wasmcustom.<that>`; Prometheus shows it as is, with `-` and `/` sanitised to
 * `_` (e.g. `meshcanary_requests__default__reviews__canary`). Double underscores separate the
 * fields because Kubernetes names cannot contain `_`.
 */
export function counterName(kind: string, canary: string, variant: string): string {
  return "meshcanary_" + kind + "__" + canary.replace("/", "__") + "__" + variant;
}

// ---- callbacks -----------------------------------------------------------------------------------

export function onContextCreate(ctx: u32, parent: u32): void {
  if (parent == 0) roots.set(ctx, new RootState(lastGood));
  else streams.set(ctx, new StreamState(parent));
}

export function onVmStart(): bool {
  return true;
}

export function onConfigure(root: u32, size: u32): bool {
  let text = "";
  if (size > 0) {
    resetOut();
    const r = proxy_get_buffer_bytes(PLUGIN_CONFIGURATION, 0, size, OUT_PTR, OUT_SIZE);
    if (r != OK) {
      log(LOG_ERROR, "meshcanary: configuration rejected: cannot read plugin configuration (result " + r.toString() + ")");
      return false;
    }
    text = takeString();
  }
  const result = parseConfig(text);
  if (result.config == null) {
    for (let i = 0; i < result.errors.length; i++) {
      log(LOG_ERROR, "meshcanary: configuration rejected: " + result.errors[i]);
    }
    return false;
  }
  const cfg = result.config!;
  bindTotals(cfg.table, totals);
  defineCounters(cfg);
  lastGood = cfg;
  if (roots.has(root)) roots.get(root).config = cfg;
  else roots.set(root, new RootState(cfg));
  // The tick publishes debug tallies now; the wave-2 reporter reports on the same period.
  proxy_set_tick_period_milliseconds(cfg.controller != null ? cfg.controller!.intervalMs : DEFAULT_INTERVAL_MS);
  log(LOG_INFO, "meshcanary: configured " + cfg.table.routes.length.toString() + " route(s)");
  return true;
}

function defineCounters(cfg: FilterConfig): void {
  const routes = cfg.table.routes;
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i];
    route.requestCounters = [];
    route.failureCounters = [];
    for (let v = 0; v < route.variants.length; v++) {
      route.requestCounters.push(counterId(counterName("requests", route.canary, route.variants[v])));
      route.failureCounters.push(counterId(counterName("failures", route.canary, route.variants[v])));
    }
  }
}

export function onRequestHeaders(ctx: u32): i32 {
  if (!streams.has(ctx)) return 0;
  const stream = streams.get(ctx);
  if (!roots.has(stream.root)) return 0;
  const authority = getHeader(REQUEST_HEADERS, AUTHORITY);
  if (authority == null) return 0;
  const route = roots.get(stream.root).config.table.lookup(authority);
  if (route == null) return 0; // unknown host: touch nothing
  proxy_remove_header_map_value(REQUEST_HEADERS, changetype<usize>(VARIANT), <usize>VARIANT.byteLength);
  const input = readDecisionInput(route);
  const draw = needsDraw(route, input) ? drawBucket(randomU32()) : 0;
  const variant = decide(route, input, draw);
  const value = String.UTF8.encode(route.variants[variant]);
  proxy_replace_header_map_value(
    REQUEST_HEADERS,
    changetype<usize>(VARIANT),
    <usize>VARIANT.byteLength,
    changetype<usize>(value),
    <usize>value.byteLength,
  );
  stream.route = route;
  stream.variant = variant;
  return 0;
}

/** Reads the pin header, the Cookie header (only if a cookie matters) and the sticky key. */
function readDecisionInput(route: Route): DecisionInput {
  const input = new DecisionInput();
  if (!route.requireToken) input.pinHeader = getHeader(REQUEST_HEADERS, keyBytes(route.pinHeader));
  const wantCookie = (!route.requireToken && input.pinHeader == null) || route.stickyCookie.length > 0;
  const cookies = wantCookie ? getHeader(REQUEST_HEADERS, COOKIE) : null;
  if (cookies != null && !route.requireToken) input.pinCookie = getCookie(cookies, route.pinCookie);
  let key: string | null = null;
  if (route.stickyHeader.length > 0) key = getHeader(REQUEST_HEADERS, keyBytes(route.stickyHeader));
  else if (route.stickyCookie.length > 0 && cookies != null) key = getCookie(cookies, route.stickyCookie);
  // An empty key would put every such user in one bucket: treat it as absent.
  if (key != null && key.length > 0) input.stickyKey = key;
  return input;
}

export function onLog(ctx: u32): void {
  if (!streams.has(ctx)) return;
  const stream = streams.get(ctx);
  const route = stream.route;
  if (route == null || stream.variant < 0 || stream.variant >= route.totals.length) return;
  const o = new Outcome();
  o.code = <i32>getIntProperty(RESPONSE_CODE, -1);
  o.flags = <u64>getIntProperty(RESPONSE_FLAGS, 0);
  o.durationNs = getIntProperty(REQUEST_DURATION, -1);
  const size = getIntProperty(RESPONSE_SIZE, 0);
  o.responseBytes = size > 0 ? <u64>size : 0;
  for (let i = 0; i < route.metricHeaders.length; i++) {
    // Response headers are read-only but available in on_log (contract §3.2).
    const v = getHeader(RESPONSE_HEADERS, keyBytes(route.metricHeaders[i]));
    o.metrics.push(v != null ? parseMetricValue(v) : NaN);
  }
  const failed = tallyOutcome(route.totals[stream.variant], route, o);
  if (stream.variant < route.requestCounters.length) incrementCounter(route.requestCounters[stream.variant]);
  if (failed && stream.variant < route.failureCounters.length) incrementCounter(route.failureCounters[stream.variant]);
}

export function onDelete(ctx: u32): void {
  if (streams.has(ctx)) streams.delete(ctx);
  else if (roots.has(ctx)) roots.delete(ctx);
}

export function onTick(_root: u32): void {
  publishDebugTallies();
}

/** This VM's tallies as a JSON array (for tests and debugging). */
export function talliesJson(): string {
  const values = totals.values();
  let s = "[";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) s += ",";
    s += totalsJson(values[i]);
  }
  return s + "]";
}

/** Logs talliesJson() at debug level after DEBUG_TALLIES_PREFIX (test and debugging path). */
export function publishDebugTallies(): void {
  log(LOG_DEBUG, DEBUG_TALLIES_PREFIX + talliesJson());
}
