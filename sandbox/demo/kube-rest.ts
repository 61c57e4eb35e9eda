/**
 * The few Kubernetes API calls the demo makes to set the stage (apply manifests, read a Canary),
 * as plain HTTP against the embedded API — what `kubectl apply` / `kubectl get` would do. The
 * controller itself talks through controller/kube like it would in a cluster.
 */

/** A manifest as parsed from YAML. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** Where each kind the demo applies lives; cluster-scoped kinds have no namespace. */
const KINDS: Record<string, { plural: string; namespaced: boolean }> = {
  CustomResourceDefinition: { plural: "customresourcedefinitions", namespaced: false },
  Namespace: { plural: "namespaces", namespaced: false },
  VirtualService: { plural: "virtualservices", namespaced: true },
  DestinationRule: { plural: "destinationrules", namespaced: true },
  WasmPlugin: { plural: "wasmplugins", namespaced: true },
  Canary: { plural: "canaries", namespaced: true },
};

export interface KubeRest {
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

function collectionPath(apiVersion: string, kind: string, namespace: string | undefined): string | Error {
  const k = KINDS[kind];
  if (!k) return new Error(`kind: the demo cannot apply ${JSON.stringify(kind)}`);
  const base = apiVersion === "v1" ? "/api/v1" : `/apis/${apiVersion}`;
  return k.namespaced ? `${base}/namespaces/${namespace ?? "default"}/${k.plural}` : `${base}/${k.plural}`;
}

export function kubeRest(baseUrl: string, token: string): KubeRest {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const failure = (what: string, r: { status: number; body: Record<string, unknown> }) =>
    new Error(`${what}: HTTP ${r.status} ${String(r.body.message ?? "")}`);

  return {
    async apply(m) {
      const what = `${m.kind} ${m.metadata.namespace ?? ""}/${m.metadata.name}`;
      const path = collectionPath(m.apiVersion, m.kind, m.metadata.namespace);
      if (path instanceof Error) return new Error(`${what}: ${path.message}`);
      const created = await call("POST", path, m);
      if (created.status === 201 || created.status === 200) return created.body as unknown as Manifest;
      if (created.status !== 409) return failure(what, created);
      const current = await call("GET", `${path}/${m.metadata.name}`);
      if (current.status !== 200) return failure(what, current);
      const meta = current.body.metadata as Record<string, unknown>;
      const body = { ...m, metadata: { ...m.metadata, resourceVersion: meta.resourceVersion } };
      const replaced = await call("PUT", `${path}/${m.metadata.name}`, body);
      return replaced.status === 200 ? (replaced.body as unknown as Manifest) : failure(what, replaced);
    },
    async get(apiVersion, kind, namespace, name) {
      const path = collectionPath(apiVersion, kind, namespace);
      if (path instanceof Error) return path;
      const r = await call("GET", `${path}/${name}`);
      if (r.status === 404) return undefined;
      if (r.status !== 200) return failure(`${kind} ${namespace}/${name}`, r);
      return r.body as unknown as Manifest;
    },
  };
}
