/**
 * How Istio's outbound route configuration picks a destination, reduced to the parts the sandbox
 * needs: VirtualService host match, http routes in order, match blocks (OR) of conditions (AND)
 * on headers/uri/method/authority, and weighted destinations. Pure: the caller supplies the random.
 */

/** Istio StringMatch: exactly one of exact, prefix, regex. */
export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface HttpMatchRequest {
  name?: string;
  uri?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  withoutHeaders?: Record<string, StringMatch>;
}

export interface RouteDestination {
  destination: { host: string; subset?: string; port?: { number?: number } };
  weight?: number;
}

export interface HttpRoute {
  name?: string;
  match?: HttpMatchRequest[];
  route?: RouteDestination[];
  timeout?: string;
  /** Header manipulation; only `request.remove` is applied (meshcanary's variant routes use it). */
  headers?: { request?: { remove?: string[] } };
  /** Istio Destination receiving a copy of each request (responses discarded). */
  mirror?: RouteDestination["destination"];
  /** Percent of requests mirrored (Istio's default without it: 100). */
  mirrorPercentage?: { value?: number };
}

export interface VirtualServiceSpec {
  hosts?: string[];
  http?: HttpRoute[];
  /**
   * Set on the VirtualServices istiod generates from Gateway API routes: a uri prefix other than "/"
   * then matches whole path segments (Envoy path_separated_prefix), as in sandbox/envoy/istio-xds.ts.
   */
  gatewaySemantics?: boolean;
}

/** The chosen destination and which route chose it. */
export interface RouteChoice {
  host: string;
  subset?: string;
  port?: number;
  routeName?: string;
  timeoutMs?: number;
  /** Request headers the route removes before forwarding (lower-case). */
  removeHeaders: string[];
  /** Where a copy of this request goes, if the route mirrors it (decided per request). */
  mirror?: { host: string; subset?: string; port?: number };
}

export interface RequestView {
  /** :authority without port, lower-case. */
  authority: string;
  path: string;
  method: string;
  /** Lower-case header name -> first value. */
  headers: Map<string, string>;
}

const regexCache = new Map<string, RegExp>();

function regex(source: string): RegExp {
  let re = regexCache.get(source);
  if (!re) {
    // Istio uses RE2 full-match semantics.
    re = new RegExp(`^(?:${source})$`);
    regexCache.set(source, re);
  }
  return re;
}

export function stringMatches(m: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (m.exact !== undefined) return value === m.exact;
  if (m.prefix !== undefined) return value.startsWith(m.prefix);
  if (m.regex !== undefined) return regex(m.regex).test(value);
  return true;
}

/**
 * Envoy's path_separated_prefix: the path (without its query) is the prefix or continues it with
 * "/" — "/api" matches "/api" and "/api/v1", not "/apis".
 */
function segmentPrefixMatches(prefix: string, path: string): boolean {
  const p = path.split("?")[0]!;
  return p === prefix || p.startsWith(`${prefix.replace(/\/$/, "")}/`);
}

function uriMatches(m: StringMatch, path: string, gatewaySemantics: boolean): boolean {
  if (gatewaySemantics && m.prefix !== undefined && m.prefix !== "/")
    return segmentPrefixMatches(m.prefix, path);
  return stringMatches(m, path);
}

function matchesBlock(m: HttpMatchRequest, req: RequestView, gatewaySemantics: boolean): boolean {
  if (m.uri && !uriMatches(m.uri, req.path, gatewaySemantics)) return false;
  if (m.method && !stringMatches(m.method, req.method)) return false;
  if (m.authority && !stringMatches(m.authority, req.authority)) return false;
  for (const [name, cond] of Object.entries(m.headers ?? {})) {
    if (!stringMatches(cond, req.headers.get(name.toLowerCase()))) return false;
  }
  for (const [name, cond] of Object.entries(m.withoutHeaders ?? {})) {
    const value = req.headers.get(name.toLowerCase());
    // An empty condition means "header absent".
    const present = Object.keys(cond).length === 0 ? value !== undefined : stringMatches(cond, value);
    if (present) return false;
  }
  return true;
}

export function routeMatches(route: HttpRoute, req: RequestView, gatewaySemantics = false): boolean {
  if (!route.match || route.match.length === 0) return true;
  return route.match.some((m) => matchesBlock(m, req, gatewaySemantics));
}

/** Whether a VirtualService host entry covers the authority (exact, short name or `*.suffix`). */
export function hostMatches(vsHost: string, authority: string): boolean {
  const h = vsHost.toLowerCase();
  if (h === "*" || h === authority) return true;
  if (h.startsWith("*.")) return authority.endsWith(h.slice(1));
  return h.startsWith(`${authority}.`) || authority.startsWith(`${h}.`);
}

/** Weighted pick among destinations; `random` in [0,1). Weights absent = equal split (Istio: single = 100). */
export function pickDestination(route: RouteDestination[], random: number): RouteDestination | undefined {
  if (route.length === 0) return undefined;
  const total = route.reduce((sum, d) => sum + (d.weight ?? (route.length === 1 ? 100 : 0)), 0);
  if (total <= 0) return route[0];
  let point = random * total;
  for (const d of route) {
    point -= d.weight ?? (route.length === 1 ? 100 : 0);
    if (point < 0) return d;
  }
  return route[route.length - 1];
}

/** Go-style duration ("1.5s", "200ms") to milliseconds; undefined when absent or malformed. */
export function durationMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * unit;
}

/** Route one request through the VirtualServices (first VS whose hosts match, first matching route). */
export function routeRequest(
  vss: VirtualServiceSpec[],
  req: RequestView,
  random: number,
  mirrorRandom = 0,
): RouteChoice | undefined {
  const vs = vss.find((v) => (v.hosts ?? []).some((h) => hostMatches(h, req.authority)));
  if (!vs) return undefined;
  const route = (vs.http ?? []).find((r) => routeMatches(r, req, vs.gatewaySemantics === true));
  if (!route?.route) return undefined;
  const picked = pickDestination(route.route, random);
  if (!picked) return undefined;
  return {
    host: picked.destination.host,
    subset: picked.destination.subset,
    port: picked.destination.port?.number,
    routeName: route.name,
    timeoutMs: durationMs(route.timeout),
    removeHeaders: (route.headers?.request?.remove ?? []).map((h) => h.toLowerCase()),
    ...mirrorOf(route, mirrorRandom),
  };
}

/** The route's mirror for one request, `random` in [0,1) against mirrorPercentage (Istio: absent = 100%). */
function mirrorOf(route: HttpRoute, random: number): Pick<RouteChoice, "mirror"> {
  const m = route.mirror;
  if (!m) return {};
  const percent = route.mirrorPercentage?.value ?? 100;
  if (random * 100 >= percent) return {};
  return { mirror: { host: m.host, subset: m.subset, port: m.port?.number } };
}
