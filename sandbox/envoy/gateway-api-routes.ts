/**
 * What istiod does with a Gateway API HTTPRoute attached to a Service (GAMMA: sidecars, and
 * ambient waypoints): it converts the route into an internal VirtualService with "gateway
 * semantics" (pilot/pkg/config/kube/gateway/conversion.go), which the ordinary route translation
 * then turns into Envoy routes. Mirrored here as a pure function, so the sandbox's Envoy and its
 * TypeScript sidecar route by an HTTPRoute exactly as by a VirtualService:
 * - one VirtualService per parent Service, hosts = the parent's FQDN;
 * - each rule split into one http route per match (Istio: "each rule has up to one match");
 * - path PathPrefix → prefix (trailing "/" trimmed; Envoy path_separated_prefix, see istio-xds),
 *   Exact → exact, RegularExpression → regex; headers Exact/RegularExpression; method;
 * - backendRefs → destinations on the backend Service's FQDN and port, weight default 1;
 * - routes sorted by Gateway API precedence as Istio's sortHTTPRoutes does: path kind (exact >
 *   prefix > regex), longer path, a method, more headers, more query params; ties keep rule order.
 * - a RequestHeaderModifier filter's `remove` → headers.request.remove (istiod's createHeadersFilter),
 *   which is how meshcanary's rules drop the rollout marker before the backend.
 * Anything else (other filters, query params, Gateway parents) is refused by name, as istio-xds does.
 */
import type {
  HttpRouteMatch,
  HttpRouteObject,
  HttpRouteRule,
} from "../../controller/mesh/http-route-types.js";
import type { HttpMatchRequest, HttpRoute, StringMatch } from "../sidecar/virtual-service-router.js";
import { fqdn, type NamespacedVirtualService } from "./istio-xds.js";

/** An HTTPRoute with the namespace its names resolve in. */
export interface NamespacedHttpRoute {
  namespace: string;
  name: string;
  spec: NonNullable<HttpRouteObject["spec"]>;
}

/** The VirtualServices istiod generates for the routes' Service parents, in route order. */
export function gammaVirtualServices(routes: readonly NamespacedHttpRoute[]): NamespacedVirtualService[] {
  return routes.flatMap((route) =>
    (route.spec.parentRefs ?? [])
      .filter((p) => (p.group ?? "") === "" && p.kind === "Service")
      .map((parent) => ({
        namespace: route.namespace,
        name: `${route.name}-${parent.name}`,
        gatewaySemantics: true,
        spec: {
          hosts: [fqdn(parent.name, parent.namespace ?? route.namespace)],
          http: sortByPrecedence(convertRules(route)),
        },
      })),
  );
}

function convertRules(route: NamespacedHttpRoute): HttpRoute[] {
  return (route.spec.rules ?? []).flatMap((rule, i) => {
    const where = `httproute ${route.namespace}/${route.name} rules[${i}]`;
    const remove = removedHeaders(where, rule.filters ?? []);
    const matches: Array<HttpRouteMatch | undefined> = rule.matches?.length ? rule.matches : [undefined];
    return matches.map((m, j) => ({
      name: rule.name ?? `${route.name}.${i}.${j}`,
      ...(m ? { match: [convertMatch(`${where}.matches[${j}]`, m)] } : {}),
      route: destinations(where, rule, route.namespace),
      ...(remove.length > 0 ? { headers: { request: { remove } } } : {}),
      ...(rule.timeouts?.request ? { timeout: rule.timeouts.request } : {}),
    }));
  });
}

/** The request headers a rule's filters remove; any other filter is refused by name. */
function removedHeaders(where: string, filters: unknown[]): string[] {
  return filters.flatMap((f, k) => {
    const filter = f as { type?: string; requestHeaderModifier?: Record<string, unknown> };
    const modifier = filter.requestHeaderModifier ?? {};
    const other = Object.keys(modifier).filter((key) => key !== "remove");
    if (filter.type !== "RequestHeaderModifier" || other.length > 0) {
      const what =
        filter.type === "RequestHeaderModifier" ? `requestHeaderModifier.${other[0]}` : filter.type;
      throw new Error(`${where}.filters[${k}]: ${what} is not translated by the sandbox`);
    }
    return (modifier.remove as string[] | undefined) ?? [];
  });
}

function convertMatch(where: string, m: HttpRouteMatch): HttpMatchRequest {
  if (m.queryParams?.length) throw new Error(`${where}.queryParams: not translated by the sandbox`);
  const out: HttpMatchRequest = { uri: uriMatch(m) };
  if (m.method) out.method = { exact: m.method };
  if (m.headers?.length) {
    out.headers = Object.fromEntries(
      m.headers.map((h) => [
        h.name.toLowerCase(),
        h.type === "RegularExpression" ? { regex: h.value } : { exact: h.value },
      ]),
    );
  }
  return out;
}

function uriMatch(m: HttpRouteMatch): StringMatch {
  const value = m.path?.value ?? "/";
  switch (m.path?.type ?? "PathPrefix") {
    case "Exact":
      return { exact: value };
    case "RegularExpression":
      return { regex: value };
    default:
      // "When specified, a trailing `/` is ignored."
      return { prefix: value === "/" ? value : value.replace(/\/$/, "") };
  }
}

function destinations(where: string, rule: HttpRouteRule, namespace: string): HttpRoute["route"] {
  return (rule.backendRefs ?? []).map((b, k) => {
    if ((b.group ?? "") !== "" || (b.kind ?? "Service") !== "Service")
      throw new Error(`${where}.backendRefs[${k}]: only Service backends are translated, got ${b.kind}`);
    return {
      destination: {
        host: fqdn(b.name, b.namespace ?? namespace),
        ...(b.port !== undefined ? { port: { number: b.port } } : {}),
      },
      weight: b.weight ?? 1,
    };
  });
}

function uriRank(m: HttpMatchRequest | undefined): [number, number] {
  const uri = m?.uri;
  if (uri?.exact !== undefined) return [3, uri.exact.length];
  if (uri?.prefix !== undefined) return [2, uri.prefix.length];
  if (uri?.regex !== undefined) return [1, uri.regex.length];
  return [0, 0];
}

/** Istio's sortHTTPRoutes: the more specific match first; a route without matches last. */
function sortByPrecedence(routes: HttpRoute[]): HttpRoute[] {
  const key = (r: HttpRoute) => {
    const m = r.match?.[0];
    const [rank, length] = uriRank(m);
    return [m ? 1 : 0, rank, length, m?.method ? 1 : 0, Object.keys(m?.headers ?? {}).length];
  };
  return routes
    .map((r, i) => ({ r, i, k: key(r) }))
    .sort((a, b) => {
      for (let n = 0; n < a.k.length; n++) if (a.k[n] !== b.k[n]) return b.k[n]! - a.k[n]!;
      return a.i - b.i;
    })
    .map((e) => e.r);
}
