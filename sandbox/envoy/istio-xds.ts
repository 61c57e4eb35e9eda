/**
 * The part of istiod's job a client sidecar needs, as pure functions: VirtualServices and
 * DestinationRules become the outbound RouteConfiguration and clusters Istio would push (cluster
 * names `outbound|PORT|SUBSET|FQDN`, one virtual host per service and port, one Envoy route per
 * match block, header matches, weighted clusters, Istio's default retry policy and no route
 * timeout). Only what meshcanary's routing relies on is translated; anything else is refused by
 * name, so a test never runs on a silently different route table.
 */
import type {
  HttpMatchRequest,
  HttpRoute,
  RouteDestination,
  StringMatch,
  VirtualServiceSpec,
} from "../sidecar/virtual-service-router.js";
import { durationMs } from "../sidecar/virtual-service-router.js";
import type { DestinationRuleView } from "../sidecar/virtual-service-source.js";

/** A VirtualService with the namespace its short host names resolve in. */
export interface NamespacedVirtualService {
  namespace: string;
  name: string;
  spec: VirtualServiceSpec;
  /** Generated from a Gateway API HTTPRoute (gateway-api-routes.ts): prefixes match whole path segments. */
  gatewaySemantics?: boolean;
}

/** A Kubernetes Service as the proxy sees it: its FQDN, its port and its pods. */
export interface ServiceView {
  /** e.g. reviews.default.svc.cluster.local */
  host: string;
  port: number;
  endpoints: { address: string; port: number; labels: Record<string, string> }[];
}

/** What the translation reads. */
export interface MeshView {
  /** The proxy's own namespace: short names (`reviews`) are domains only for its own services. */
  proxyNamespace: string;
  services: ServiceView[];
  virtualServices: NamespacedVirtualService[];
  destinationRules: DestinationRuleView[];
}

/** Plain JSON in Envoy's v3 proto3-JSON form. */
export type Json = Record<string, unknown>;

export interface OutboundConfig {
  routeConfiguration: Json;
  clusters: Json[];
}

const DOMAIN_SUFFIX = "svc.cluster.local";

/** Istio's default retry policy for outbound HTTP routes (pilot `retry.DefaultPolicy`). */
export const ISTIO_DEFAULT_RETRY: Json = {
  retry_on: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
  num_retries: 2,
  retriable_status_codes: [503],
  retry_host_predicate: [
    {
      name: "envoy.retry_host_predicates.previous_hosts",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
      },
    },
  ],
  host_selection_retry_max_attempts: "5",
};

/** A VirtualService/DestinationRule host resolved as Istio does for Kubernetes services. */
export function fqdn(host: string, namespace: string): string {
  const h = host.toLowerCase();
  const parts = h.split(".");
  if (parts.length === 1) return `${h}.${namespace}.${DOMAIN_SUFFIX}`;
  if (parts.length === 2) return `${h}.${DOMAIN_SUFFIX}`;
  if (parts.length === 3 && parts[2] === "svc") return `${h}.cluster.local`;
  return h;
}

/** `outbound|PORT|SUBSET|FQDN` (Istio's BuildSubsetKey). */
export function clusterName(port: number, subset: string | undefined, host: string): string {
  return `outbound|${port}|${subset ?? ""}|${host}`;
}

/** Domains of a service's virtual host, with and without the port (short forms in-namespace only). */
export function domainsOf(service: ServiceView, proxyNamespace: string): string[] {
  const [name, ns] = service.host.split(".");
  const names = [service.host];
  if (name && ns) {
    names.push(`${name}.${ns}`, `${name}.${ns}.svc`);
    if (ns === proxyNamespace) names.push(name);
  }
  return names.flatMap((n) => [n, `${n}:${service.port}`]);
}

function stringMatch(field: string, m: StringMatch): Json {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  if (m.regex !== undefined) return { safe_regex: { regex: m.regex } };
  throw new Error(`${field}: a StringMatch needs exact, prefix or regex`);
}

function headerMatchers(where: string, headers: Record<string, StringMatch>, invert: boolean): Json[] {
  return Object.entries(headers).map(([name, cond]) => {
    const base: Json = { name: name.toLowerCase(), ...(invert ? { invert_match: true } : {}) };
    // An empty condition means "present" (headers) or "absent" (withoutHeaders).
    if (Object.keys(cond).length === 0) return { ...base, present_match: true };
    return { ...base, string_match: stringMatch(`${where}.${name}`, cond) };
  });
}

/** One Istio HTTPMatchRequest as an Envoy RouteMatch. */
export function routeMatch(where: string, m: HttpMatchRequest | undefined): Json {
  const out: Json = {};
  const uri = m?.uri;
  if (!uri) out.prefix = "/";
  else if (uri.exact !== undefined) out.path = uri.exact;
  else if (uri.prefix !== undefined) out.prefix = uri.prefix;
  else if (uri.regex !== undefined) out.safe_regex = { regex: uri.regex };
  else throw new Error(`${where}.uri: needs exact, prefix or regex`);
  const headers: Json[] = [
    ...headerMatchers(`${where}.headers`, m?.headers ?? {}, false),
    ...headerMatchers(`${where}.withoutHeaders`, m?.withoutHeaders ?? {}, true),
  ];
  if (m?.method) headers.push({ name: ":method", string_match: stringMatch(`${where}.method`, m.method) });
  if (m?.authority)
    headers.push({ name: ":authority", string_match: stringMatch(`${where}.authority`, m.authority) });
  if (headers.length > 0) out.headers = headers;
  return out;
}

function destinationCluster(
  where: string,
  d: RouteDestination,
  namespace: string,
  portOf: (host: string) => number | undefined,
): string {
  const host = fqdn(d.destination.host, namespace);
  const port = d.destination.port?.number ?? portOf(host);
  if (port === undefined) throw new Error(`${where}.destination.host: ${host} is not a known service`);
  return clusterName(port, d.destination.subset, host);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3).replace(/\.?0+$/, "")}s`;
}

/** The route action of an Istio HTTPRoute: one cluster or weighted clusters. */
export function routeAction(
  where: string,
  route: HttpRoute,
  namespace: string,
  portOf: (host: string) => number | undefined,
): Json {
  const dests = (route.route ?? []).map((d, i) => ({
    name: destinationCluster(`${where}.route[${i}]`, d, namespace, portOf),
    weight: d.weight ?? (route.route?.length === 1 ? 100 : 0),
  }));
  if (dests.length === 0) throw new Error(`${where}.route: no destination`);
  // Istio leaves zero-weight destinations out; a single remaining one becomes a plain cluster.
  const live = dests.length === 1 ? dests : dests.filter((d) => d.weight > 0);
  const timeout = durationMs(route.timeout);
  const action: Json = {
    timeout: timeout === undefined ? "0s" : seconds(timeout),
    retry_policy: ISTIO_DEFAULT_RETRY,
  };
  if (live.length === 1) action.cluster = live[0]?.name;
  else action.weighted_clusters = { clusters: live };
  if (route.mirror) action.request_mirror_policies = [mirrorPolicy(where, route, namespace, portOf)];
  return action;
}

/**
 * Istio's translation of `mirror`/`mirrorPercentage` (pilot route.go): one RequestMirrorPolicy to
 * the destination's cluster, its share as a runtime fraction per million (absent: all requests),
 * trace_sampled false.
 */
function mirrorPolicy(
  where: string,
  route: HttpRoute,
  namespace: string,
  portOf: (host: string) => number | undefined,
): Json {
  const cluster = destinationCluster(`${where}.mirror`, { destination: route.mirror! }, namespace, portOf);
  const percent = route.mirrorPercentage?.value ?? 100;
  if (!(percent >= 0 && percent <= 100))
    throw new Error(`${where}.mirrorPercentage.value: must be 0..100, got ${percent}`);
  return {
    cluster,
    runtime_fraction: { default_value: { numerator: Math.round(percent * 10_000), denominator: "MILLION" } },
    trace_sampled: false,
  };
}

function virtualServiceFor(
  service: ServiceView,
  vss: readonly NamespacedVirtualService[],
): NamespacedVirtualService | undefined {
  return vss.find((vs) => (vs.spec.hosts ?? []).some((h) => fqdn(h, vs.namespace) === service.host));
}

function routesFor(service: ServiceView, view: MeshView, portOf: (h: string) => number | undefined): Json[] {
  const vs = virtualServiceFor(service, view.virtualServices);
  if (!vs) {
    return [
      {
        name: "default",
        match: { prefix: "/" },
        route: {
          cluster: clusterName(service.port, undefined, service.host),
          timeout: "0s",
          retry_policy: ISTIO_DEFAULT_RETRY,
        },
      },
    ];
  }
  const out: Json[] = [];
  (vs.spec.http ?? []).forEach((http, i) => {
    const where = `virtualservice ${vs.namespace}/${vs.name} http[${i}]`;
    const action = routeAction(where, http, vs.namespace, portOf);
    const blocks = http.match?.length ? http.match : [undefined];
    blocks.forEach((m, j) => {
      const removed = http.headers?.request?.remove ?? [];
      out.push({
        name: http.name ?? `${vs.name}-${i}`,
        match: segmentPrefix(routeMatch(`${where}.match[${j}]`, m), vs.gatewaySemantics === true),
        route: action,
        // Istio: HTTPRoute.headers.request.remove → Route.request_headers_to_remove.
        ...(removed.length > 0 ? { request_headers_to_remove: removed } : {}),
      });
    });
  });
  return out;
}

/** Istio under gateway semantics: a prefix other than "/" matches whole path segments (path_separated_prefix). */
function segmentPrefix(match: Json, gatewaySemantics: boolean): Json {
  if (!gatewaySemantics || typeof match.prefix !== "string" || match.prefix === "/") return match;
  const { prefix, ...rest } = match;
  return { path_separated_prefix: prefix, ...rest };
}

/** The outbound route configuration (named by port, as Istio names it) and every cluster. */
export function outboundConfig(view: MeshView, routeConfigName: string): OutboundConfig {
  const ports = new Map(view.services.map((s) => [s.host, s.port]));
  const portOf = (h: string) => ports.get(h);
  const virtualHosts = view.services.map((service) => ({
    name: `${service.host}:${service.port}`,
    domains: domainsOf(service, view.proxyNamespace),
    routes: routesFor(service, view, portOf),
  }));
  return {
    routeConfiguration: { name: routeConfigName, virtual_hosts: virtualHosts, validate_clusters: false },
    clusters: view.services.flatMap((s) => clustersOf(s, view.destinationRules)),
  };
}

function labelsMatch(want: Record<string, string> | undefined, have: Record<string, string>): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => have[k] === v);
}

/** Istio's sidecar cluster defaults that matter here: no circuit-breaker limits, 10 s connect timeout. */
export function staticCluster(
  name: string,
  endpoints: { address: string; port: number }[],
  http2 = false,
): Json {
  const max = 4294967295;
  return {
    name,
    type: "STATIC",
    connect_timeout: "10s",
    lb_policy: "LEAST_REQUEST",
    circuit_breakers: {
      thresholds: [{ max_connections: max, max_pending_requests: max, max_requests: max, max_retries: max }],
    },
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: endpoints.map((e) => ({
            endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
          })),
        },
      ],
    },
    ...(http2
      ? {
          typed_extension_protocol_options: {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
              "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
        }
      : {}),
  };
}

function clustersOf(service: ServiceView, rules: readonly DestinationRuleView[]): Json[] {
  const out = [staticCluster(clusterName(service.port, undefined, service.host), service.endpoints)];
  for (const rule of rules) {
    if (fqdn(rule.host, rule.namespace) !== service.host) continue;
    for (const subset of rule.subsets) {
      const eps = service.endpoints.filter((e) => labelsMatch(subset.labels, e.labels));
      out.push(staticCluster(clusterName(service.port, subset.name, service.host), eps));
    }
  }
  return out;
}
