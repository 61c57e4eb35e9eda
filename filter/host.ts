// The thin adapter between the ABI callbacks and the pure modules: reads configuration, headers and
// properties through the host, applies the decision, tallies outcomes, bumps Envoy counters.
// Every host result code is handled; nothing here may trap on traffic.

import {
  proxy_define_metric,
  proxy_get_buffer_bytes,
  proxy_get_header_map_value,
  proxy_get_property,
  proxy_increment_metric,
  proxy_remove_header_map_value,
  proxy_replace_header_map_value,
  proxy_set_tick_period_milliseconds,
} from "./abi/imports";
import { OUT_ID, OUT_PTR, OUT_SIZE, release, resetOut, takeI64, takeString } from "./abi/memory";
import { DEFAULT_INTERVAL_MS, FilterConfig, Route, RoutingTable } from "./config";
import { parseConfig, pinSecretErrors } from "./config-json";
import { tableFromDirective } from "./config-table";
import { getCookie } from "./cookies";
import {
  LOG_DEBUG,
  LOG_ERROR,
  LOG_INFO,
  LOG_WARN,
  OK,
  envVar,
  getShared,
  log,
  monotonicNs,
  nowMs,
  randomU32,
  sharedCas,
} from "./host-io";
import { HeaderPairs } from "./header-pairs";
import { MARKER_HEADER } from "./marker";
import { addCounter, forgetUnrouted } from "./merge";
import { llmDone, llmLog, llmResponseBody, llmResponseHeaders, llmStart } from "./llm-host";
import { LlmScan } from "./llm-scan";
import { decodeDirective, lastDecodeError } from "./report";
import { reporterClose, reporterReceive, reporterRootDeleted, reporterRouted, reporterTick } from "./reporter";
import {
  DIRECTIVE_CHANGED_KEY,
  DIRECTIVE_KEY,
  DIRECTIVE_VERSION_KEY,
  storeDirective,
  storedBytes,
  storedVersion,
} from "./shared-directive";
import { ensureState, flushTallies } from "./shared-tallies";
import { pinSecretEnvName } from "./pin-secret";
import { PIN_REJECTION_REASONS, PinRejection, pinRejectionName } from "./pin-token";
import { DecisionInput, PinOutcome, decideWithPin, drawBucket, drawNeeded, resolvePinInto } from "./split";
import { Outcome, parseMetricValue, tallyOutcome } from "./tally";
import { bindTotals } from "./totals-binding";
import { decidedGroup, tallyUserGroup } from "./user-groups";
import { CounterEntry, VariantTotalsData } from "./wire";

// proxy-wasm enums (contract §1.2).
const REQUEST_HEADERS: i32 = 0;
const RESPONSE_HEADERS: i32 = 2;
const PLUGIN_CONFIGURATION: i32 = 7;
const METRIC_COUNTER: i32 = 0;

/** The header the VirtualService routes on. */
export const VARIANT_HEADER = "x-meshcanary-variant";

/** Report interval bounds (docs/filter-config.md `controller.intervalMs`), also for Directive overrides. */
const MIN_INTERVAL_MS: u32 = 100;
const MAX_INTERVAL_MS: u32 = 60000;
/** Delay of a reporting root's first tick, so a starting proxy connects at once. */
const FIRST_TICK_MS: u32 = 20;

const AUTHORITY = String.UTF8.encode(":authority");
const VARIANT = String.UTF8.encode(VARIANT_HEADER);
const MARKER = String.UTF8.encode(MARKER_HEADER);
const COOKIE = String.UTF8.encode("cookie");
const RESPONSE_CODE = String.UTF8.encode("response\0code");
const RESPONSE_FLAGS = String.UTF8.encode("response\0flags");
const DIRECTIVE_CHANGED_KEY_BYTES = String.UTF8.encode(DIRECTIVE_CHANGED_KEY);

/** Per root context: its configuration and the tick period it armed. */
class RootState {
  config: FilterConfig;
  tickMs: u32 = 0;
  constructor(config: FilterConfig) {
    this.config = config;
  }
}

/** Per stream: its root and, once decided, the route and variant for on_log. */
class StreamState {
  root: u32 = 0;
  route: Route | null = null;
  variant: i32 = -1;
  /** The request's user group (filter/user-groups.ts), or -1: pinned. */
  userGroup: i32 = -1;
  /** The response-body scan of a route with LLM metrics. */
  llm: LlmScan | null = null;
  /**
   * Response body bytes that passed this filter, counted in on_response_body (called for every
   * chunk anyway): Envoy's `response.size` property would cost a host call and a malloc in on_log.
   */
  responseBytes: u64 = 0;
  /**
   * Monotonic clock when the request was routed (-1 = unknown); on_log's reading minus this is the
   * latency. Two clock reads cost less than `request.duration` (a host call plus a malloc).
   */
  startNs: i64 = -1;
}

/** The last `:authority` bytes looked up in `table` and their route: most traffic repeats one host. */
class AuthorityCache {
  table: RoutingTable | null = null;
  bytes: ArrayBuffer = new ArrayBuffer(0);
  route: Route | null = null;
}

const roots = new Map<u32, RootState>();
const streams = new Map<u32, StreamState>();
/** Finished streams' states, reused so a request allocates no state of its own. */
const freeStreams = new Array<StreamState>();
const MAX_FREE_STREAMS = 1024;
const authorityCache = new AuthorityCache();
/** The request headers of the stream being routed (one host copy per request, freed before returning). */
const requestHeaders = new HeaderPairs();
// The last stream and root looked up: a stream's callbacks come in a row, and one root serves
// nearly every stream, so most lookups skip the maps. Cleared whenever the maps change.
let lastStreamId: u32 = 0;
let lastStream: StreamState | null = null;
let lastRootId: u32 = 0;
let lastRoot: RootState | null = null;
/** Reused for every request (a callback runs to completion before the next one starts). */
const decisionInput = new DecisionInput();
const pinOutcome = new PinOutcome();
const outcome = new Outcome();
/** The last configuration that validated in this VM; new root contexts start from it. */
let lastGood: FilterConfig = new FilterConfig();
/** This VM's tallies since its last flush to shared data, per canary + "\n" + variant. */
const totals = new Map<string, VariantTotalsData>();
/** This VM's health counters since its last flush (e.g. directive_rejected). */
const counters = new Array<CounterEntry>();
/** Envoy metric ids by name, reused across reconfigurations. */
const metricIds = new Map<string, u32>();
/** The ids of the applied routes' counters only (rebuilt per table), so old canaries' names go. */
let routeMetricIds = new Map<string, u32>();
/** Canary ids of the routing table requests are decided on (the Directive's once one arrived). */
let routed = new Set<string>();
/** The controller's routing table once a Directive arrived (it then wins over plugin configuration). */
let directiveTable: RoutingTable | null = null;
/** Report interval from the applied Directive (0 = the configured one). */
let directiveIntervalMs: u32 = 0;
/** cas of the shared Directive change marker last looked at (skip reading an unchanged version). */
let directiveCas: u32 = 0;

// ---- context state ---------------------------------------------------------------------------------

/** The state of stream context `ctx`, or null. */
function streamState(ctx: u32): StreamState | null {
  if (lastStream != null && ctx == lastStreamId) return lastStream;
  if (!streams.has(ctx)) return null;
  const stream = streams.get(ctx);
  lastStreamId = ctx;
  lastStream = stream;
  return stream;
}

/** The state of root context `id`, or null. */
function rootState(id: u32): RootState | null {
  if (lastRoot != null && id == lastRootId) return lastRoot;
  if (!roots.has(id)) return null;
  const root = roots.get(id);
  lastRootId = id;
  lastRoot = root;
  return root;
}

function setRoot(id: u32, state: RootState): void {
  roots.set(id, state);
  lastRoot = null;
}

// ---- small host helpers --------------------------------------------------------------------------

/** Asks for a header's first value; true when present, leaving it in OUT_PTR/OUT_SIZE for the caller to release. */
function readHeader(map: i32, key: ArrayBuffer): bool {
  resetOut();
  const r = proxy_get_header_map_value(map, changetype<usize>(key), <usize>key.byteLength, OUT_PTR, OUT_SIZE);
  if (r == OK) return true;
  release(load<u32>(OUT_PTR));
  return false;
}

/** First value of a header, or null (absent, unavailable, or any other result). */
function getHeader(map: i32, key: ArrayBuffer): string | null {
  return readHeader(map, key) ? takeString() : null;
}

/** An integer property (8-byte LE), or `fallback` when NotFound/other. */
function getIntProperty(path: ArrayBuffer, fallback: i64): i64 {
  resetOut();
  const r = proxy_get_property(changetype<usize>(path), <usize>path.byteLength, OUT_PTR, OUT_SIZE);
  if (r != OK) return fallback;
  return takeI64(fallback);
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
  if (parent == 0) {
    setRoot(ctx, new RootState(lastGood));
    return;
  }
  const stream = freeStreams.length > 0 ? freeStreams.pop() : new StreamState();
  stream.root = parent;
  stream.route = null;
  stream.variant = -1;
  stream.llm = null;
  stream.responseBytes = 0;
  stream.startNs = -1;
  streams.set(ctx, stream);
  lastStreamId = ctx;
  lastStream = stream;
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
  if (!configurePins(cfg)) return false;
  bindTotals(cfg.table, totals);
  prepareRoutes(cfg.table);
  if (directiveTable == null) setRouted(cfg.table);
  lastGood = cfg;
  if (!roots.has(root)) setRoot(root, new RootState(cfg));
  const state = rootState(root)!;
  state.config = cfg;
  // Created now, before traffic, so workers racing to be first writer only race on an empty state.
  ensureState();
  // Every tick flushes this VM's tallies to shared data; the lease holder also reports. The first
  // tick comes early so a starting proxy fetches the controller's table within milliseconds (no
  // stream from on_configure: Envoy's throw-away canary VM runs it too, and would take the lease);
  // onTick then sets the configured interval.
  state.tickMs = cfg.controller != null ? FIRST_TICK_MS : intervalFor(cfg);
  proxy_set_tick_period_milliseconds(state.tickMs);
  log(LOG_INFO, "meshcanary: configured " + cfg.table.routes.length.toString() + " route(s)");
  return true;
}

/** Envoy counter of refused pin tokens; `<it>__<reason>` counts one reason. */
const PIN_REJECTED_COUNTER = "meshcanary_pin_rejected";

/**
 * Reads the pin-token secret named by `pinSecretEnv` into `cfg` and defines the rejection counters.
 * False (logged) when a requireToken route has no secret to check tokens with.
 */
function configurePins(cfg: FilterConfig): bool {
  loadRouteSecrets(cfg.table);
  const secret = cfg.pinSecretEnv.length > 0 ? envVar(cfg.pinSecretEnv) : null;
  const errors = pinSecretErrors(cfg, secret);
  for (let i = 0; i < errors.length; i++) log(LOG_ERROR, "meshcanary: configuration rejected: " + errors[i]);
  if (errors.length > 0) return false;
  if (secret != null) cfg.pinSecret = Uint8Array.wrap(String.UTF8.encode(secret));
  counterId(PIN_REJECTED_COUNTER);
  for (let r = 1; r <= PIN_REJECTION_REASONS; r++) counterId(PIN_REJECTED_COUNTER + "__" + pinRejectionName(<PinRejection>r));
  return true;
}

/** Each token-checking route's own key from its Canary's variable (filter/pin-secret.ts), if set. */
function loadRouteSecrets(table: RoutingTable): void {
  for (let i = 0; i < table.routes.length; i++) {
    const route = table.routes[i];
    if (!route.requireToken) continue;
    const secret = envVar(pinSecretEnvName(route.canary));
    route.pinSecret = secret != null ? Uint8Array.wrap(String.UTF8.encode(secret)) : new Uint8Array(0);
  }
}

/** Counts a refused pin token: Envoy counters (total and per reason) and the report's filter counters. */
function countPinRejection(r: PinRejection): void {
  const reason = pinRejectionName(r);
  incrementCounter(counterId(PIN_REJECTED_COUNTER));
  incrementCounter(counterId(PIN_REJECTED_COUNTER + "__" + reason));
  addCounter(counters, "pin_token_rejected_" + reason, 1);
}

/** The tick/report period for a configuration: the Directive's override, else the configured one. */
function intervalFor(cfg: FilterConfig): u32 {
  if (directiveIntervalMs > 0) return directiveIntervalMs;
  return cfg.controller != null ? cfg.controller!.intervalMs : DEFAULT_INTERVAL_MS;
}

/** Envoy counter id of a route counter, defined unless `previous` (the last table's ids) has it. */
function routeCounterId(name: string, previous: Map<string, u32>, ids: Map<string, u32>): u32 {
  let id: u32 = 0;
  if (previous.has(name)) {
    id = previous.get(name);
  } else {
    const b = String.UTF8.encode(name);
    store<u32>(OUT_ID, 0);
    if (proxy_define_metric(METRIC_COUNTER, changetype<usize>(b), <usize>b.byteLength, OUT_ID) == OK) id = load<u32>(OUT_ID);
  }
  if (id != 0) ids.set(name, id);
  return id;
}

/**
 * Defines each route's Envoy counters and encodes the names and values its requests pass to the
 * host. Only the applied table's counter ids are kept (Envoy returns the same id when a name is
 * defined again), so memory does not grow with every canary ever routed.
 */
function prepareRoutes(table: RoutingTable): void {
  const routes = table.routes;
  const previous = routeMetricIds;
  const ids = new Map<string, u32>();
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i];
    route.requestCounters = [];
    route.failureCounters = [];
    route.variantValues = [];
    for (let v = 0; v < route.variants.length; v++) {
      route.requestCounters.push(routeCounterId(counterName("requests", route.canary, route.variants[v]), previous, ids));
      route.failureCounters.push(routeCounterId(counterName("failures", route.canary, route.variants[v]), previous, ids));
      route.variantValues.push(String.UTF8.encode(route.variants[v]));
    }
    route.markerValue = String.UTF8.encode(route.marker);
    route.pinHeaderKey = String.UTF8.encode(route.pinHeader);
    route.stickyHeaderKey = String.UTF8.encode(route.stickyHeader);
    route.metricHeaderKeys = [];
    for (let m = 0; m < route.metricHeaders.length; m++) {
      route.metricHeaderKeys.push(String.UTF8.encode(route.metricHeaders[m]));
    }
  }
  routeMetricIds = ids;
  loadRouteSecrets(table);
}

/** Records the canaries requests are now decided on, for forgetting the others' tallies. */
function setRouted(table: RoutingTable): void {
  const canaries = new Set<string>();
  for (let i = 0; i < table.routes.length; i++) canaries.add(table.routes[i].canary);
  routed = canaries;
  reporterRouted(canaries);
}

export function onRequestHeaders(ctx: u32): i32 {
  const stream = streamState(ctx);
  if (stream == null) return 0;
  const root = rootState(stream.root);
  if (root == null) return 0;
  const headers = requestHeaders;
  if (!headers.read(REQUEST_HEADERS)) return 0;
  routeRequest(stream, root, headers);
  headers.release();
  return 0;
}

/** Decides the variant of a request whose headers are in `headers` and sets the variant header. */
function routeRequest(stream: StreamState, root: RootState, headers: HeaderPairs): void {
  if (!headers.find(AUTHORITY)) return;
  // A Directive reaches one worker's stream; the others must not decide on the older table until
  // their next tick, or a user could be sent canary by one worker and stable by another.
  syncDirective();
  const cfg = root.config;
  const table = directiveTable != null ? directiveTable! : cfg.table;
  const route = routeForAuthority(table, headers.valuePtr, headers.valueSize);
  if (route == null) return; // unknown host: touch nothing
  if (route.shadow != cfg.shadowReceiver) return; // shadow copies count only where they arrive
  stream.startNs = monotonicNs();
  // A client-sent variant header is never honoured (removing an absent one would be a wasted host call).
  if (headers.find(VARIANT)) removeRequestHeader(VARIANT);
  const input = readDecisionInput(route, cfg, headers);
  const pin = resolvePinInto(route, input, pinOutcome);
  if (pin.rejection != PinRejection.None) countPinRejection(pin.rejection);
  const draw = drawNeeded(pin, input) ? drawBucket(randomU32()) : 0;
  const variant = decideWithPin(route, pin, input, draw);
  replaceRequestHeader(VARIANT, route.variantValues[variant]);
  // A client-sent marker never passes: only this route's own (if the rollout has one) goes on.
  if (headers.find(MARKER)) removeRequestHeader(MARKER);
  if (route.markerValue.byteLength > 0) replaceRequestHeader(MARKER, route.markerValue);
  stream.route = route;
  stream.variant = variant;
  stream.userGroup = decidedGroup();
  const llm = route.llm;
  if (llm != null && stream.llm == null) stream.llm = llmStart(llm);
}

/** LLM routes: the response's content type picks how its body is scanned. */
export function onResponseHeaders(ctx: u32): i32 {
  const stream = streamState(ctx);
  if (stream != null && stream.llm != null) llmResponseHeaders(stream.llm!);
  return 0;
}

/**
 * Counts each chunk's bytes (the filter always answers Continue, so `size` is this chunk's, never a
 * buffered total); LLM routes also scan it as it passes.
 */
export function onResponseBody(ctx: u32, size: u32): i32 {
  const stream = streamState(ctx);
  if (stream == null) return 0;
  stream.responseBytes += size;
  if (stream.llm != null) llmResponseBody(stream.llm!, size);
  return 0;
}

function replaceRequestHeader(name: ArrayBuffer, value: ArrayBuffer): void {
  proxy_replace_header_map_value(
    REQUEST_HEADERS,
    changetype<usize>(name),
    <usize>name.byteLength,
    changetype<usize>(value),
    <usize>value.byteLength,
  );
}

/** Called only when the request carries `name`: removing an absent header would be a wasted host call. */
function removeRequestHeader(name: ArrayBuffer): void {
  proxy_remove_header_map_value(REQUEST_HEADERS, changetype<usize>(name), <usize>name.byteLength);
}

/**
 * The route for the `:authority` value at `ptr` (inside the request's header copy). Repeats of
 * the previous value in the same table skip decoding and the lookup.
 */
function routeForAuthority(table: RoutingTable, ptr: usize, size: usize): Route | null {
  const c = authorityCache;
  const same =
    c.table == table &&
    <usize>c.bytes.byteLength == size &&
    (size == 0 || memory.compare(changetype<usize>(c.bytes), ptr, size) == 0);
  if (!same) {
    const bytes = new ArrayBuffer(<i32>size);
    if (size > 0) memory.copy(changetype<usize>(bytes), ptr, size);
    c.table = table;
    c.bytes = bytes;
    c.route = table.lookup(size > 0 ? String.UTF8.decodeUnsafe(ptr, size) : "");
  }
  return c.route;
}

/**
 * Reads the pin header, the Cookie header (only if a cookie matters) and the sticky key; for
 * requireToken routes carrying a pin also the secret and the clock, to check tokens with.
 */
function readDecisionInput(route: Route, cfg: FilterConfig, headers: HeaderPairs): DecisionInput {
  const input = decisionInput;
  input.reset();
  input.pinHeader = headers.get(route.pinHeaderKey);
  // A header pin that pins nothing (unknown variant, refused token) falls back to the cookie.
  const headerPins = input.pinHeader != null && !route.requireToken && route.variantIndex(input.pinHeader!) >= 0;
  const wantCookie = !headerPins || route.stickyCookie.length > 0;
  const cookies = wantCookie ? headers.get(COOKIE) : null;
  if (cookies != null) input.pinCookie = getCookie(cookies, route.pinCookie);
  if (route.requireToken && (input.pinHeader != null || input.pinCookie != null)) {
    input.pinSecret = route.pinSecret.length > 0 ? route.pinSecret : cfg.pinSecret;
    const ms = nowMs();
    // No clock (the host refused): every token counts as expired rather than as valid forever.
    input.nowSeconds = ms > 0 ? ms / 1000 : i64.MAX_VALUE;
  }
  let key: string | null = null;
  if (route.stickyHeader.length > 0) key = headers.get(route.stickyHeaderKey);
  else if (route.stickyCookie.length > 0 && cookies != null) key = getCookie(cookies, route.stickyCookie);
  // An empty key would put every such user in one bucket: treat it as absent.
  if (key != null && key.length > 0) input.stickyKey = key;
  return input;
}

export function onLog(ctx: u32): void {
  const stream = streamState(ctx);
  if (stream == null) return;
  const route = stream.route;
  if (route == null || stream.variant < 0 || stream.variant >= route.totals.length) return;
  const o = outcome;
  o.reset();
  o.code = <i32>getIntProperty(RESPONSE_CODE, -1);
  // Flags only matter when the code alone does not already make the request a failure.
  if (o.code >= 100 && o.code < 500) o.flags = <u64>getIntProperty(RESPONSE_FLAGS, 0);
  o.durationNs = latencyNs(stream.startNs);
  o.responseBytes = stream.responseBytes;
  for (let i = 0; i < route.metricHeaders.length; i++) {
    // Response headers are read-only but available in on_log (contract §3.2).
    const v = getHeader(RESPONSE_HEADERS, route.metricHeaderKeys[i]);
    o.metrics.push(v != null ? parseMetricValue(v) : NaN);
  }
  const failed = tallyOutcome(route.totals[stream.variant], route, o);
  tallyUserGroup(route.totals[stream.variant], stream.userGroup, failed);
  if (stream.llm != null) llmLog(route.totals[stream.variant], stream.llm!, o.code);
  if (stream.variant < route.requestCounters.length) incrementCounter(route.requestCounters[stream.variant]);
  if (failed && stream.variant < route.failureCounters.length) incrementCounter(route.failureCounters[stream.variant]);
}

/** Nanoseconds since `startNs` (a monotonic reading), or -1 when either reading is missing. */
function latencyNs(startNs: i64): i64 {
  if (startNs < 0) return -1;
  const now = monotonicNs();
  return now >= startNs ? now - startNs : -1;
}

export function onDelete(ctx: u32): void {
  const stream = streamState(ctx);
  if (stream != null) {
    streams.delete(ctx);
    lastStream = null;
    stream.route = null;
    if (stream.llm != null) llmDone(stream.llm!);
    stream.llm = null;
    if (freeStreams.length < MAX_FREE_STREAMS) freeStreams.push(stream);
  } else if (roots.has(ctx)) {
    roots.delete(ctx);
    lastRoot = null;
    reporterRootDeleted(ctx);
  }
}

/**
 * Per root, every interval: flush this VM's tallies into shared data, pick up a newer Directive a
 * sibling worker stored, and (if configured) take part in reporting.
 */
export function onTick(root: u32): void {
  const state = rootState(root);
  if (state == null) return;
  if (flushTallies(totals, counters)) forgetUnrouted(totals, routed);
  syncDirective();
  const interval = intervalFor(state.config);
  if (interval != state.tickMs) {
    state.tickMs = interval;
    proxy_set_tick_period_milliseconds(interval);
  }
  const controller = state.config.controller;
  if (controller != null) reporterTick(root, controller, interval, nowMs(), appliedVersion());
}

function appliedVersion(): u64 {
  return directiveTable != null ? directiveTable!.version : 0;
}

/** Applies the shared Directive if a sibling stored a newer one. */
function syncDirective(): void {
  // The common case, nothing new, costs one host call and no malloc: the empty change marker's cas
  // is unchanged. Otherwise 8 bytes say whether the (large) Directive value is worth reading.
  const cas = sharedCas(DIRECTIVE_CHANGED_KEY_BYTES);
  if (cas < 0 || <u32>cas == directiveCas) return;
  const version = getShared(DIRECTIVE_VERSION_KEY);
  if (version.result != OK) return;
  directiveCas = <u32>cas;
  if (storedVersion(version.value) <= appliedVersion()) return;
  const v = getShared(DIRECTIVE_KEY);
  if (v.result != OK || storedVersion(v.value) <= appliedVersion()) return;
  acceptDirective(storedBytes(v.value), false);
}

/** A message on the controller stream: a Directive. */
export function onGrpcReceive(_root: u32, token: u32, size: u32): void {
  const bytes = reporterReceive(token, size);
  if (bytes != null) acceptDirective(bytes, true);
}

export function onGrpcClose(_root: u32, token: u32, status: u32): void {
  reporterClose(token, status, nowMs());
}

/** Validates a Directive like plugin configuration; applies (and, from the stream, shares) a newer one. */
function acceptDirective(bytes: ArrayBuffer, fromStream: bool): void {
  const d = decodeDirective(bytes);
  if (d == null) {
    rejectDirective("undecodable: " + lastDecodeError());
    return;
  }
  const result = tableFromDirective(d);
  if (result.table == null) {
    rejectDirective(result.errors.join("; "));
    return;
  }
  if (result.dropped > 0) {
    // The valid routes still apply: one bad route must not freeze every other canary's weights.
    addCounter(counters, "directive_routes_rejected", <u64>result.dropped);
    log(LOG_WARN, "meshcanary: directive routes left out: " + result.errors.join("; "));
  }
  if (d.version <= appliedVersion()) {
    log(LOG_DEBUG, "meshcanary: directive version " + d.version.toString() + " is not newer; ignored");
    return;
  }
  if (fromStream) storeDirective(d.version, bytes);
  const table = result.table!;
  bindTotals(table, totals);
  prepareRoutes(table);
  directiveTable = table;
  setRouted(table);
  const ms = d.reportIntervalMs;
  directiveIntervalMs = ms == 0 ? 0 : ms < MIN_INTERVAL_MS ? MIN_INTERVAL_MS : ms > MAX_INTERVAL_MS ? MAX_INTERVAL_MS : ms;
  log(LOG_INFO, "meshcanary: applied directive version " + d.version.toString() + " (" + table.routes.length.toString() + " route(s))");
}

function rejectDirective(why: string): void {
  addCounter(counters, "directive_rejected", 1);
  log(LOG_WARN, "meshcanary: directive rejected: " + why);
}
