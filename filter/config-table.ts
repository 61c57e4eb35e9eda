// Plain route data (from JSON or a controller Directive) → a validated RoutingTable: the semantic
// rules both sources share. Pure AssemblyScript: no host imports.

import { DEFAULT_PIN_COOKIE, DEFAULT_PIN_HEADER, MAX_METRICS, MAX_ROUTES, MAX_VARIANTS, Route, RoutingTable, SHADOW_SUFFIX, TOTAL_WEIGHT, TableResult, lowerAscii } from "./config";
import { quote } from "./json";
import { buildLlm } from "./llm-config";
import { isMarker } from "./marker";
import { buildSlowThresholds } from "./slow-counts";
import { DirectiveData, ResponseMetricData, RouteData, VariantData } from "./wire";

/**
 * Validates a controller Directive into a routing table (same rules as plugin configuration), route
 * by route: an invalid route, one claiming a host an earlier route holds, or one past the limit is
 * left out and named in `errors`; the valid routes are applied.
 */
export function tableFromDirective(d: DirectiveData): TableResult {
  return buildTable(d.routes, d.version, true);
}

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
    // Thresholds only steer counting: in a Directive a bad one is left out, not its route.
    const ignored = buildSlowThresholds(routes[i], route, p, perRoute ? result.ignored : errors);
    const names = claimableNames(table, route, routes[i].aliases, p, errors);
    if (perRoute && errors.length > before) {
      result.dropped++;
      continue;
    }
    result.ignoredSlow += ignored;
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
