/**
 * Gateway API HTTPRoutes over the Kubernetes API (CustomObjectsApi), gateway.networking.k8s.io/v1
 * (standard channel, served by every Gateway API release since v1.0 and by Istio ≥ 1.22).
 */
import { CustomObjectsApi } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { GATEWAY_GROUP, type HttpRouteObject } from "../mesh/http-route-types.js";
import { call, DEFAULT_RETRY, type KubeResult, type RetryPolicy } from "./errors.js";

const VERSION = "v1";
const PLURAL = "httproutes";

/** Read and write HTTPRoutes; replace fails with reason "Conflict" on a stale resourceVersion. */
export interface HttpRouteStore {
  get(namespace: string, name: string): Promise<KubeResult<HttpRouteObject>>;
  /** Writes the route as is, with its metadata.resourceVersion as the precondition. */
  replace(route: HttpRouteObject): Promise<KubeResult<HttpRouteObject>>;
}

export function kubeHttpRouteStore(kc: KubeConfig, retry: RetryPolicy = DEFAULT_RETRY): HttpRouteStore {
  const api = kc.makeApiClient(CustomObjectsApi);
  const at = { group: GATEWAY_GROUP, version: VERSION, plural: PLURAL };
  return {
    get(namespace, name) {
      return call(
        () => api.getNamespacedCustomObject({ ...at, namespace, name }) as Promise<HttpRouteObject>,
        retry,
      );
    },
    replace(route) {
      const namespace = route.metadata?.namespace ?? "";
      const name = route.metadata?.name ?? "";
      const body = { ...route, apiVersion: `${GATEWAY_GROUP}/${VERSION}` };
      return call(
        () => api.replaceNamespacedCustomObject({ ...at, namespace, name, body }) as Promise<HttpRouteObject>,
        retry,
      );
    },
  };
}
