import { describe, expect, it } from "vitest";
import { gammaVirtualServices, type NamespacedHttpRoute } from "../../sandbox/envoy/gateway-api-routes.js";
import { outboundConfig, type ServiceView } from "../../sandbox/envoy/istio-xds.js";
import { type RequestView, routeRequest } from "../../sandbox/sidecar/virtual-service-router.js";

const svc = (name: string): ServiceView => ({
  host: `${name}.default.svc.cluster.local`,
  port: 9080,
  endpoints: [{ address: "127.0.0.1", port: 1, labels: {} }],
});
const backend = (name: string, weight?: number) => ({
  name,
  port: 9080,
  ...(weight !== undefined ? { weight } : {}),
});

/** The sample HTTPRoute as the controller leaves it mid-rollout, rules in the order it writes them. */
const split: NamespacedHttpRoute = {
  namespace: "default",
  name: "reviews",
  spec: {
    parentRefs: [{ group: "", kind: "Service", name: "reviews", port: 9080 }],
    rules: [
      {
        name: "primary",
        timeouts: { request: "2s" },
        backendRefs: [backend("reviews-v1", 9900), backend("reviews-v2", 100)],
      },
      {
        name: "admin",
        matches: [{ path: { type: "PathPrefix", value: "/admin/" }, method: "POST" }],
        backendRefs: [backend("reviews-v1")],
      },
      {
        name: "meshcanary-reviews-canary",
        matches: [
          {
            path: { type: "PathPrefix", value: "/" },
            headers: [{ type: "Exact", name: "X-Meshcanary-Variant", value: "canary" }],
          },
        ],
        backendRefs: [backend("reviews-v2", 1)],
      },
      {
        name: "pin-cookie",
        matches: [
          { path: { type: "Exact", value: "/x" } },
          { headers: [{ type: "RegularExpression", name: "cookie", value: "^(.*;\\s*)?pin=canary(;.*)?$" }] },
        ],
        backendRefs: [backend("reviews-v2")],
      },
    ],
  },
};

function envoyRoutes(routes: NamespacedHttpRoute[]) {
  const view = {
    proxyNamespace: "default",
    services: ["reviews", "reviews-v1", "reviews-v2"].map(svc),
    virtualServices: gammaVirtualServices(routes),
    destinationRules: [],
  };
  const config = outboundConfig(view, "9080");
  const hosts = config.routeConfiguration.virtual_hosts as Array<{ name: string; routes: unknown[] }>;
  return hosts.find((h) => h.name === "reviews.default.svc.cluster.local:9080")!.routes;
}

describe("HTTPRoute → Envoy routes, as istiod converts a GAMMA route", () => {
  it("one route per match, sorted by Gateway API precedence, weights and timeouts carried over", () => {
    const retry = expect.objectContaining({ num_retries: 2 });
    expect(envoyRoutes([split])).toEqual([
      {
        name: "pin-cookie",
        match: { path: "/x" },
        route: {
          timeout: "0s",
          retry_policy: retry,
          cluster: "outbound|9080||reviews-v2.default.svc.cluster.local",
        },
      },
      {
        name: "admin",
        match: {
          path_separated_prefix: "/admin",
          headers: [{ name: ":method", string_match: { exact: "POST" } }],
        },
        route: {
          timeout: "0s",
          retry_policy: retry,
          cluster: "outbound|9080||reviews-v1.default.svc.cluster.local",
        },
      },
      {
        name: "meshcanary-reviews-canary",
        match: {
          prefix: "/",
          headers: [{ name: "x-meshcanary-variant", string_match: { exact: "canary" } }],
        },
        route: {
          timeout: "0s",
          retry_policy: retry,
          cluster: "outbound|9080||reviews-v2.default.svc.cluster.local",
        },
      },
      {
        name: "pin-cookie",
        match: {
          prefix: "/",
          headers: [
            { name: "cookie", string_match: { safe_regex: { regex: "^(.*;\\s*)?pin=canary(;.*)?$" } } },
          ],
        },
        route: {
          timeout: "0s",
          retry_policy: retry,
          cluster: "outbound|9080||reviews-v2.default.svc.cluster.local",
        },
      },
      {
        name: "primary",
        match: { prefix: "/" },
        route: {
          timeout: "2s",
          retry_policy: retry,
          weighted_clusters: {
            clusters: [
              { name: "outbound|9080||reviews-v1.default.svc.cluster.local", weight: 9900 },
              { name: "outbound|9080||reviews-v2.default.svc.cluster.local", weight: 100 },
            ],
          },
        },
      },
    ]);
  });

  it("the TypeScript sidecar routes the converted route the same way", () => {
    const vss = gammaVirtualServices([split]).map((v) => ({
      ...v.spec,
      gatewaySemantics: v.gatewaySemantics,
    }));
    const req = (headers: Record<string, string>, path = "/r", method = "GET"): RequestView => ({
      authority: "reviews",
      path,
      method,
      headers: new Map(Object.entries(headers)),
    });
    expect(routeRequest(vss, req({ "x-meshcanary-variant": "canary" }), 0)?.host).toBe(
      "reviews-v2.default.svc.cluster.local",
    );
    expect(routeRequest(vss, req({}), 0.5)?.host).toBe("reviews-v1.default.svc.cluster.local");
    expect(routeRequest(vss, req({}, "/admin/x", "POST"), 0.999)?.routeName).toBe("admin");
    // Whole path segments, as Envoy's path_separated_prefix: "/admin" but not "/administrator".
    expect(routeRequest(vss, req({}, "/admin?x=1", "POST"), 0.999)?.routeName).toBe("admin");
    expect(routeRequest(vss, req({}, "/administrator", "POST"), 0.999)?.routeName).toBe("primary");
    const plain = vss.map((v) => ({ ...v, gatewaySemantics: false }));
    expect(routeRequest(plain, req({}, "/administrator", "POST"), 0.999)?.routeName).toBe("admin");
  });

  it("a RequestHeaderModifier's remove becomes the route's header removal, as istiod's createHeadersFilter does", () => {
    const removing = {
      ...split,
      spec: {
        ...split.spec,
        rules: [
          {
            backendRefs: [backend("reviews-v1")],
            filters: [
              { type: "RequestHeaderModifier", requestHeaderModifier: { remove: ["x-meshcanary-marker"] } },
            ],
          },
        ],
      },
    };
    const [vs] = gammaVirtualServices([removing as NamespacedHttpRoute]);
    expect(vs?.spec.http?.[0]?.headers).toEqual({ request: { remove: ["x-meshcanary-marker"] } });
  });

  it("only Service parents attach (a Gateway parent is the gateway's, not the mesh's)", () => {
    const north = { ...split, spec: { ...split.spec, parentRefs: [{ name: "ingress" }] } };
    expect(gammaVirtualServices([north])).toEqual([]);
  });

  it.each([
    [
      "a redirect filter",
      { filters: [{ type: "RequestRedirect" }] },
      /rules\[0\]\.filters\[0\]: RequestRedirect is not translated/,
    ],
    [
      "a header set",
      {
        filters: [
          { type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: "a", value: "b" }] } },
        ],
      },
      /rules\[0\]\.filters\[0\]: requestHeaderModifier\.set is not translated/,
    ],
    [
      "query params",
      { matches: [{ queryParams: [{ name: "a", value: "b" }] }] },
      /queryParams: not translated/,
    ],
    [
      "a non-Service backend",
      { backendRefs: [{ group: "x.io", kind: "Bucket", name: "b" }] },
      /only Service backends/,
    ],
  ])("refuses %s by name instead of routing differently", (_, rule, error) => {
    const odd = {
      ...split,
      spec: { ...split.spec, rules: [{ backendRefs: [backend("reviews-v1")], ...rule }] },
    };
    expect(() => gammaVirtualServices([odd as NamespacedHttpRoute])).toThrow(error);
  });
});
