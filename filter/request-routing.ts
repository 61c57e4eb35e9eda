// The per-request decision (on_request_headers): find the route for `:authority`, pick the variant
// (pin → sticky hash → weighted random, filter/split.ts) and mark the request with the variant
// header the VirtualService routes on (and the rollout's marker). One copy of the request headers
// per request; client-sent variant and marker headers are never honoured.

import { REQUEST_HEADERS } from "./abi/enums";
import { proxy_remove_header_map_value, proxy_replace_header_map_value } from "./abi/imports";
import { FilterConfig, Route, RoutingTable } from "./config";
import { RootState, StreamState, rootState, streamState } from "./contexts";
import { getCookie } from "./cookies";
import { routingTable, syncDirective } from "./directive-apply";
import { countPinRejection } from "./envoy-counters";
import { HeaderPairs } from "./header-pairs";
import { monotonicNs, nowMs, randomU32 } from "./host-io";
import { llmStart } from "./llm-host";
import { MARKER_HEADER } from "./marker";
import { PinRejection } from "./pin-token";
import { DecisionInput, PinOutcome, decideWithPin, drawBucket, drawNeeded, resolvePinInto } from "./split";
import { decidedGroup } from "./user-groups";

/** The header the VirtualService routes on. */
export const VARIANT_HEADER = "x-meshcanary-variant";

const AUTHORITY = String.UTF8.encode(":authority");
const VARIANT = String.UTF8.encode(VARIANT_HEADER);
const MARKER = String.UTF8.encode(MARKER_HEADER);
const COOKIE = String.UTF8.encode("cookie");

/** The last `:authority` bytes looked up in `table` and their route: most traffic repeats one host. */
class AuthorityCache {
  table: RoutingTable | null = null;
  bytes: ArrayBuffer = new ArrayBuffer(0);
  route: Route | null = null;
}

const authorityCache = new AuthorityCache();
/** The request headers of the stream being routed (one host copy per request, freed before returning). */
const requestHeaders = new HeaderPairs();
/** Reused for every request (a callback runs to completion before the next one starts). */
const decisionInput = new DecisionInput();
const pinOutcome = new PinOutcome();

/** on_request_headers: decides the stream's variant; always Continue (0). */
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
  const route = routeForAuthority(routingTable(cfg), headers.valuePtr, headers.valueSize);
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
