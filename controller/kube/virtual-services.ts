/**
 * VirtualServices and DestinationRule subsets over the Kubernetes API (CustomObjectsApi).
 * Istio serves networking.istio.io v1 since 1.22; older meshes only v1beta1, so the store asks
 * discovery once and uses v1 when served, else v1beta1.
 */
import { CustomObjectsApi } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { sameHost } from "../mesh/render-routes.js";
import type { VirtualService } from "../mesh/types.js";
import { call, DEFAULT_RETRY, fail, type KubeResult, ok, type RetryPolicy } from "./errors.js";

const GROUP = "networking.istio.io";
const VERSIONS = ["v1", "v1beta1"] as const;

/** Read and write VirtualServices; replace fails with reason "Conflict" on a stale resourceVersion. */
export interface VirtualServiceStore {
  get(namespace: string, name: string): Promise<KubeResult<VirtualService>>;
  /** Writes vs as is, with its metadata.resourceVersion as the precondition. */
  replace(vs: VirtualService): Promise<KubeResult<VirtualService>>;
  /** Names of the subsets every DestinationRule in namespace defines for host. */
  listDestinationRuleSubsets(namespace: string, host: string): Promise<KubeResult<string[]>>;
}

export function kubeVirtualServiceStore(
  kc: KubeConfig,
  retry: RetryPolicy = DEFAULT_RETRY,
): VirtualServiceStore {
  const api = kc.makeApiClient(CustomObjectsApi);
  let version: string | undefined;
  const served = async (): Promise<KubeResult<string>> => {
    if (version) return ok(version);
    for (const v of VERSIONS) {
      const found = await call(() => api.getAPIResources({ group: GROUP, version: v }), retry);
      if (found.ok && found.value.resources.some((r) => r.name === "virtualservices")) {
        version = v;
        return ok(v);
      }
      if (!found.ok && found.error.reason !== "NotFound") return fail(found.error);
    }
    return fail({
      reason: "NotFound",
      code: 404,
      message: `${GROUP} serves neither v1 nor v1beta1 virtualservices`,
    });
  };

  return {
    async get(namespace, name) {
      const v = await served();
      if (!v.ok) return v;
      const params = { group: GROUP, version: v.value, namespace, plural: "virtualservices", name };
      return call(() => api.getNamespacedCustomObject(params) as Promise<VirtualService>, retry);
    },
    async replace(vs) {
      const v = await served();
      if (!v.ok) return v;
      const namespace = vs.metadata?.namespace ?? "";
      const name = vs.metadata?.name ?? "";
      const body = { ...vs, apiVersion: `${GROUP}/${v.value}` };
      const params = { group: GROUP, version: v.value, namespace, plural: "virtualservices", name, body };
      return call(() => api.replaceNamespacedCustomObject(params) as Promise<VirtualService>, retry);
    },
    async listDestinationRuleSubsets(namespace, host) {
      const v = await served();
      if (!v.ok) return v;
      const params = { group: GROUP, version: v.value, namespace, plural: "destinationrules" };
      const list = await call(
        () => api.listNamespacedCustomObject(params) as Promise<DestinationRuleList>,
        retry,
      );
      if (!list.ok) return list;
      const subsets = list.value.items
        .filter((dr) => dr.spec?.host !== undefined && sameHost(dr.spec.host, host))
        .flatMap((dr) => (dr.spec?.subsets ?? []).map((s) => s.name));
      return ok([...new Set(subsets)]);
    },
  };
}

interface DestinationRuleList {
  items: Array<{ spec?: { host?: string; subsets?: Array<{ name: string }> } }>;
}
