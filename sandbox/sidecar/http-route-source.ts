/**
 * The live Gateway API HTTPRoutes, kept up to date from a Kubernetes API by an informer — the
 * HTTPRoute half of what istiod watches for GAMMA routing (VirtualServices: virtual-service-source).
 */
import type { KubeConfig } from "../../controller/kube/client.js";
import { watchCustomObjects } from "../../controller/kube/custom-objects.js";
import { GATEWAY_GROUP, type HttpRouteObject } from "../../controller/mesh/http-route-types.js";
import type { NamespacedHttpRoute } from "../envoy/gateway-api-routes.js";

/** Live HTTPRoutes. */
export interface HttpRouteSource {
  /** Current routes, ordered by namespace/name (cached between changes). */
  httpRoutes(): NamespacedHttpRoute[];
  /** Called after every add/update/delete; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

/** Starts watching gateway.networking.k8s.io/v1 httproutes; resolves once the initial list is in. */
export async function startHttpRouteSource(
  kc: KubeConfig,
  onError?: (error: string) => void,
): Promise<{ ok: true; value: HttpRouteSource } | { ok: false; error: string }> {
  const listeners = new Set<() => void>();
  let cache: NamespacedHttpRoute[] | undefined;
  const changed = () => {
    cache = undefined;
    for (const l of listeners) l();
  };
  const watch = await watchCustomObjects<HttpRouteObject>(
    kc,
    { group: GATEWAY_GROUP, version: "v1", plural: "httproutes" },
    { onAdd: changed, onUpdate: changed, onDelete: changed, onError },
  );
  if (!watch.ok) return { ok: false, error: `httproutes: ${watch.error.message}` };
  const key = (r: NamespacedHttpRoute) => `${r.namespace}/${r.name}`;
  return {
    ok: true,
    value: {
      httpRoutes() {
        cache ??= watch.value
          .list()
          .map((o) => ({
            namespace: o.metadata?.namespace ?? "",
            name: o.metadata?.name ?? "",
            spec: o.spec ?? {},
          }))
          .sort((a, b) => key(a).localeCompare(key(b)));
        return cache;
      },
      onChange(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async close() {
        listeners.clear();
        await watch.value.stop();
      },
    },
  };
}
