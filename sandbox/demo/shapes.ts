/**
 * The three mesh shapes a sandbox can run (issue #16), and what differs between them:
 * - sidecar: the filter in the client's sidecar, routing by VirtualService + DestinationRule subsets;
 * - gateway-api: the filter in the client's sidecar, routing by an HTTPRoute attached to the
 *   Service (GAMMA) with one Service per version;
 * - ambient: the same HTTPRoute applied by the Service's waypoint, where the filter runs — the
 *   sandbox's proxy then carries the waypoint's identity and the waypoint WasmPlugin's settings.
 * In every shape the one proxy in front of the services is where the variant header is set and the
 * route is chosen, as in Istio (the sidecar's outbound hop, or the waypoint's hop).
 */
import type { SidecarNode } from "../envoy/bootstrap.js";
import { gammaVirtualServices, type NamespacedHttpRoute } from "../envoy/gateway-api-routes.js";
import type { MeshView, ServiceView } from "../envoy/istio-xds.js";
import type { Manifest } from "./kube-objects.js";
import { DEMO_NAMESPACE, readManifests, renameService } from "./manifests.js";

export const SHAPES = ["sidecar", "gateway-api", "ambient"] as const;
/** Where the filter runs and which routing object the controller writes. */
export type MeshShape = (typeof SHAPES)[number];

/** The sample Canary a shape's demo Canaries are made from. */
export function canarySamplePath(shape: MeshShape): string {
  return shape === "sidecar" ? "istio/samples/canary.yaml" : "istio/samples/gateway-api/canary.yaml";
}

/** The WasmPlugin whose pluginConfig the shape's proxy runs. */
export function wasmPluginPath(shape: MeshShape): string {
  return shape === "ambient" ? "istio/ambient/wasmplugin-waypoint.yaml" : "istio/wasmplugin.yaml";
}

/** The proxy's node identity: a client pod's sidecar, or the namespace's waypoint (its pod and Deployment). */
export function proxyNode(shape: MeshShape): SidecarNode {
  return shape === "ambient"
    ? { pod: "waypoint-5d8f7c9b4-x2k7q", namespace: DEMO_NAMESPACE, workload: "waypoint" }
    : { pod: "demo-client-0", namespace: DEMO_NAMESPACE, workload: "demo-client" };
}

/** Per service, the Gateway API sample's version Services and HTTPRoute (copied from reviews). */
export function gatewayApiManifests(root: string, services: readonly string[]): Manifest[] {
  const sample = [
    ...readManifests(root, "istio/samples/gateway-api/services.yaml"),
    ...readManifests(root, "istio/samples/gateway-api/http-route.yaml"),
  ];
  return services.flatMap((s) => sample.map((m) => renameService(m, s)));
}

/**
 * The mesh as istiod shows it to the shape's proxy: without DestinationRules, the Services come from
 * the apps (the parent Service with every pod, one Service per version with its pods) and the
 * HTTPRoutes arrive as the VirtualServices istiod generates for them, ahead of any other.
 */
export function gatewayApiMeshView(
  base: MeshView,
  routes: readonly NamespacedHttpRoute[],
  endpoints: ReadonlyMap<string, ServiceView["endpoints"][number]>,
  port: number,
): MeshView {
  const byService = new Map<string, ServiceView["endpoints"]>();
  for (const [key, ep] of endpoints) {
    const [service = key, version = ""] = key.split("/");
    for (const name of [service, `${service}-${version}`]) {
      byService.set(name, [...(byService.get(name) ?? []), ep]);
    }
  }
  const host = (name: string) => `${name}.${base.proxyNamespace}.svc.cluster.local`;
  const known = new Set(base.services.map((s) => s.host));
  const services = [...byService]
    .filter(([name]) => !known.has(host(name)))
    .map(([name, eps]) => ({ host: host(name), port, endpoints: eps }));
  return {
    ...base,
    services: [...base.services, ...services],
    virtualServices: [...gammaVirtualServices(routes), ...base.virtualServices],
  };
}
