/**
 * Any Kubernetes object by apiVersion/kind, the way `kubectl apply` / `kubectl get` treat it:
 * for the sandbox staging its manifests and for tests. Uses the client's generic object API,
 * which finds each kind's resource through API discovery.
 */
import {
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  loadYaml,
} from "@kubernetes/client-node";
import { call, DEFAULT_RETRY, type RetryPolicy } from "./errors.js";

/** A manifest as parsed from YAML. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ObjectStore {
  /** Creates the object, or replaces it when it exists; the stored object or an error naming it. */
  apply(m: Manifest): Promise<Manifest | Error>;
  /** Reads an object; undefined when it does not exist. */
  get(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<Manifest | undefined | Error>;
}

export function kubeObjectStore(kc: KubeConfig, retry: RetryPolicy = DEFAULT_RETRY): ObjectStore {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const header = (m: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
  }) => ({
    apiVersion: m.apiVersion,
    kind: m.kind,
    metadata: { name: m.metadata.name, namespace: m.metadata.namespace },
  });
  const asManifest = (o: KubernetesObject) => o as unknown as Manifest;
  const failure = (m: Manifest, message: string) =>
    new Error(`${m.kind} ${m.metadata.namespace ?? ""}/${m.metadata.name}: ${message}`);

  // The generic API serializes a known kind through its typed model, which reads the model's field
  // names (x_kubernetes_preserve_unknown_fields) and silently drops wire names found in manifests
  // (x-kubernetes-preserve-unknown-fields): a CRD would reach the server with every such marker
  // gone, and the server would then prune what the marker was meant to keep. Manifests are
  // therefore turned into the model first (JSON is YAML), as client-node's own loadYaml does.
  const asModel = (m: Manifest) => loadYaml<KubernetesObject>(JSON.stringify(m));

  return {
    async apply(m) {
      const created = await call(() => api.create(asModel(m)), retry);
      if (created.ok) return asManifest(created.value);
      if (created.error.reason !== "Conflict") return failure(m, created.error.message);
      const current = await call(() => api.read(header(m)), retry);
      if (!current.ok) return failure(m, current.error.message);
      const resourceVersion = current.value.metadata?.resourceVersion;
      const body = asModel({ ...m, metadata: { ...m.metadata, resourceVersion } });
      const replaced = await call(() => api.replace(body), retry);
      return replaced.ok ? asManifest(replaced.value) : failure(m, replaced.error.message);
    },
    async get(apiVersion, kind, namespace, name) {
      const r = await call(() => api.read({ apiVersion, kind, metadata: { name, namespace } }), retry);
      if (r.ok) return asManifest(r.value);
      if (r.error.reason === "NotFound") return undefined;
      return new Error(`${kind} ${namespace}/${name}: ${r.error.message}`);
    },
  };
}
