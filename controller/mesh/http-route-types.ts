/**
 * The Gateway API HTTPRoute (gateway.networking.k8s.io v1, standard channel since v1.0; rule names
 * since v1.2) as far as meshcanary reads and writes it. Fields it does not know are kept as read
 * (index signatures), so a planned route copies them through.
 */

/** A parentRef: a Gateway (north-south) or a Service (mesh, GAMMA: sidecars and ambient waypoints). */
export interface ParentRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  sectionName?: string;
}

/** A header condition; type defaults to Exact on the server. */
export interface HeaderMatch {
  type?: "Exact" | "RegularExpression";
  name: string;
  value: string;
}

/** One entry of `rules[].matches` (conditions ANDed; the entries of a rule are ORed). */
export interface HttpRouteMatch {
  path?: { type?: "Exact" | "PathPrefix" | "RegularExpression"; value?: string };
  headers?: HeaderMatch[];
  queryParams?: Array<{ type?: string; name: string; value: string }>;
  method?: string;
  [key: string]: unknown;
}

/** One entry of `rules[].backendRefs`; group ""/kind Service/weight 1 are the server's defaults. */
export interface BackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
  [key: string]: unknown;
}

/** One entry of `spec.rules`. */
export interface HttpRouteRule {
  name?: string;
  matches?: HttpRouteMatch[];
  backendRefs?: BackendRef[];
  filters?: unknown[];
  timeouts?: { request?: string; backendRequest?: string };
  [key: string]: unknown;
}

/** An HTTPRoute as read from the API. */
export interface HttpRouteObject {
  apiVersion: string;
  kind: "HTTPRoute";
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: {
    parentRefs?: ParentRef[];
    hostnames?: string[];
    rules?: HttpRouteRule[];
    [key: string]: unknown;
  };
  status?: unknown;
}

/** A planned HTTPRoute and whether it differs from the observed one. */
export interface HttpRoutePlan {
  route: HttpRouteObject;
  changed: boolean;
}

export const GATEWAY_GROUP = "gateway.networking.k8s.io";
/** Gateway API's CEL bounds on a route (HTTPRoute v1.6 CRD): at most 16 rules, fewer than 128 matches in all. */
export const MAX_RULES = 16;
export const MAX_MATCHES = 128;
