/**
 * `kubectl create -f` for the tests: objects are posted to the collection discovery names for their
 * kind (so CRD-defined kinds work once established), against the embedded or a real API server.
 */
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { KubeReply } from "./kube-real.js";

/** One JSON request with the test's admin credentials. */
export type Requester = (
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
) => Promise<KubeReply>;

/** A manifest object, read loosely. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [field: string]: unknown;
}

/** Every non-empty document of a multi-document YAML file. */
export function readManifests(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(path, "utf8"))
    .map((d) => d.toJS() as Manifest | null)
    .filter((o): o is Manifest => o !== null && typeof o === "object");
}

function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** Collection path of an object's kind, e.g. /apis/networking.istio.io/v1/namespaces/default/virtualservices. */
export async function collectionPath(req: Requester, obj: Manifest, limitMs = 10_000): Promise<string> {
  const base = groupVersionPath(obj.apiVersion);
  const deadline = Date.now() + limitMs;
  for (;;) {
    const list = await req("GET", base);
    const found = (
      list.body?.resources as Array<{ name: string; kind: string; namespaced: boolean }> | undefined
    )
      ?.filter((r) => !r.name.includes("/"))
      .find((r) => r.kind === obj.kind);
    if (found) {
      return found.namespaced
        ? `${base}/namespaces/${obj.metadata.namespace ?? "default"}/${found.name}`
        : `${base}/${found.name}`;
    }
    // A freshly established CRD reaches discovery a moment later.
    if (Date.now() > deadline)
      throw new Error(`no resource for ${obj.apiVersion} ${obj.kind} (${list.status})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Creates each object in order; throws naming the object and the server's answer on any failure. */
export async function createAll(req: Requester, objects: Manifest[]): Promise<void> {
  for (const obj of objects) {
    const r = await req("POST", `${await collectionPath(req, obj)}?fieldValidation=Strict`, obj);
    if (r.status >= 300) {
      throw new Error(
        `create ${obj.kind} ${obj.metadata.name}: ${r.status} ${JSON.stringify(r.body?.message ?? r.body)}`,
      );
    }
  }
}

/** Creates CRDs and waits until each is Established (served). */
export async function createCrds(req: Requester, crds: Manifest[], limitMs = 30_000): Promise<void> {
  await createAll(req, crds);
  const deadline = Date.now() + limitMs;
  for (const crd of crds) {
    for (;;) {
      const got = await req(
        "GET",
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
      );
      const conditions = (got.body?.status?.conditions ?? []) as Array<{ type: string; status: string }>;
      if (conditions.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A token for a ServiceAccount from the TokenRequest API, as the kubelet would mount it. */
export async function serviceAccountToken(req: Requester, namespace: string, name: string): Promise<string> {
  const r = await req("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: { expirationSeconds: 3600 },
  });
  if (r.status >= 300 || typeof r.body?.status?.token !== "string") {
    throw new Error(`TokenRequest ${namespace}/${name}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return r.body.status.token as string;
}
