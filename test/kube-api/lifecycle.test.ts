/** Watch expiry (410 → relist), finalizers, cascading deletes and persistence across restarts, via client-node. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  Watch,
} from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { CANARY_CRD_MODEL, kubeConfigFor, until } from "./helpers.js";

const CANARY = { group: "meshcanary.io", version: "v1alpha1", namespace: "default", plural: "canaries" };
const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const servers: KubeApiServer[] = [];
const dirs: string[] = [];

async function start(opts: Parameters<typeof startKubeApi>[0] = {}): Promise<KubeApiServer> {
  const s = await startKubeApi(opts);
  servers.push(s);
  return s;
}

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("watch expiry", () => {
  it("an informer relists after its watch is expired with 410 Gone", async () => {
    const server = await start();
    const kc = kubeConfigFor(server);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "a" } } });
    const path = "/api/v1/namespaces/default/configmaps";
    const informer = makeInformer<V1ConfigMap>(kc, path, () =>
      core.listNamespacedConfigMap({ namespace: "default" }),
    );
    const names: string[] = [];
    let connects = 0;
    informer.on("add", (o) => names.push(o.metadata!.name!));
    informer.on("connect", () => {
      connects += 1;
    });
    await informer.start();
    try {
      await until("watch open", () => (server.requestCounts.get(`GET ${path}?watch`) ?? 0) === 1);
      expect(server.requestCounts.get(`GET ${path}`)).toBe(1);
      server.faults.expireWatches();
      await until("relist and new watch", () => (server.requestCounts.get(`GET ${path}?watch`) ?? 0) === 2);
      expect(server.requestCounts.get(`GET ${path}`)).toBe(2);
      expect(connects).toBe(2);
      await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "b" } } });
      await until("add b through the new watch", () => names.includes("b"));
      expect(names).toEqual(["a", "b"]);
    } finally {
      await informer.stop();
    }
  });

  it("resuming from a resourceVersion older than the retained history yields an ERROR event with code 410", async () => {
    const server = await start({ historyLimit: 2 });
    const kc = kubeConfigFor(server);
    const core = kc.makeApiClient(CoreV1Api);
    const first = await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "c1" } },
    });
    for (const name of ["c2", "c3", "c4"]) {
      await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name } } });
    }
    const events: { type: string; code?: number }[] = [];
    let done = false;
    await new Watch(kc).watch(
      "/api/v1/namespaces/default/configmaps",
      { resourceVersion: first.metadata!.resourceVersion },
      (type, obj: { code?: number }) => events.push({ type, code: obj.code }),
      () => {
        done = true;
      },
    );
    await until("watch closed by the server", () => done);
    expect(events).toEqual([{ type: "ERROR", code: 410 }]);
  });
});

describe("deletion", () => {
  it("holds an object with finalizers until they are removed", async () => {
    const server = await start();
    const kc = kubeConfigFor(server);
    await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: CANARY_CRD_MODEL });
    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      ...CANARY,
      body: { metadata: { name: "fin", finalizers: ["meshcanary.io/cleanup"] }, spec: {} },
    });
    const marked = (await custom.deleteNamespacedCustomObject({
      ...CANARY,
      name: "fin",
    })) as KubernetesObject;
    expect(marked.metadata?.deletionTimestamp).toBeDefined();
    const still = (await custom.getNamespacedCustomObject({ ...CANARY, name: "fin" })) as KubernetesObject;
    expect(still.metadata?.finalizers).toEqual(["meshcanary.io/cleanup"]);
    await custom.patchNamespacedCustomObject(
      { ...CANARY, name: "fin", body: { metadata: { finalizers: null } } },
      MERGE,
    );
    const gone = await custom
      .getNamespacedCustomObject({ ...CANARY, name: "fin" })
      .catch((e: ApiException<unknown>) => e);
    expect((gone as ApiException<unknown>).code).toBe(404);
  });

  it("deleting a namespace deletes its objects; deleting a CRD stops serving its resource", async () => {
    const server = await start();
    const kc = kubeConfigFor(server);
    const core = kc.makeApiClient(CoreV1Api);
    const crds = kc.makeApiClient(ApiextensionsV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: "team-b" } } });
    await core.createNamespacedConfigMap({ namespace: "team-b", body: { metadata: { name: "cfg" } } });
    await core.deleteNamespace({ name: "team-b" });
    const all = await core.listConfigMapForAllNamespaces();
    expect(all.items.map((c) => c.metadata?.name)).not.toContain("cfg");

    await crds.createCustomResourceDefinition({ body: CANARY_CRD_MODEL });
    await custom.createNamespacedCustomObject({ ...CANARY, body: { metadata: { name: "x" }, spec: {} } });
    await crds.deleteCustomResourceDefinition({ name: "canaries.meshcanary.io" });
    const e = (await custom
      .listNamespacedCustomObject(CANARY)
      .catch((err: ApiException<unknown>) => err)) as ApiException<unknown>;
    expect(e.code).toBe(404);
  });
});

describe("fault injection: delay", () => {
  it("holds a matching request, which then sees writes made meanwhile", async () => {
    const server = await start();
    const core = kubeConfigFor(server).makeApiClient(CoreV1Api);
    server.faults.delayNext({ method: "GET", path: /\/configmaps\/late$/, delayMs: 500 });
    const delayedRead = core.readNamespacedConfigMap({ namespace: "default", name: "late" });
    await until(
      "delayed request received",
      () => server.requestCounts.get("GET /api/v1/namespaces/default/configmaps/late") === 1,
    );
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "late" }, data: { v: "1" } },
    });
    expect((await delayedRead).data).toEqual({ v: "1" });
  });
});

describe("kubeconfig", () => {
  it("writes a kubeconfig file that client-node loads and uses", async () => {
    const server = await start();
    const dir = mkdtempSync(join(tmpdir(), "kube-api-"));
    dirs.push(dir);
    const path = join(dir, "config");
    server.writeKubeconfig(path);
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    expect(kc.getCurrentContext()).toBe("meshcanary-sandbox");
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual([
      "default",
      "kube-node-lease",
      "kube-public",
      "kube-system",
    ]);
  });
});

describe("persistence", () => {
  it("reloads CRDs, custom resources and the resourceVersion counter from dataDir", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "kube-api-"));
    dirs.push(dataDir);
    const first = await start({ dataDir });
    const kc1 = kubeConfigFor(first);
    await kc1.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: CANARY_CRD_MODEL });
    const created = (await kc1.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      ...CANARY,
      body: { metadata: { name: "kept" }, spec: { weight: 5 } },
    })) as KubernetesObject;
    const lastRv = first.store.resourceVersion();
    await first.close();

    const second = await start({ dataDir });
    const kc2 = kubeConfigFor(second);
    const custom = kc2.makeApiClient(CustomObjectsApi);
    const kept = (await custom.getNamespacedCustomObject({ ...CANARY, name: "kept" })) as KubernetesObject & {
      spec: unknown;
    };
    expect(kept.spec).toEqual({ weight: 5 });
    expect(kept.metadata?.uid).toBe(created.metadata?.uid);
    const next = (await custom.createNamespacedCustomObject({
      ...CANARY,
      body: { metadata: { name: "new" }, spec: {} },
    })) as KubernetesObject;
    expect(Number(next.metadata?.resourceVersion)).toBe(lastRv + 1);
  });

  it("refuses to start on a corrupt snapshot, naming the file", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "kube-api-"));
    dirs.push(dataDir);
    writeFileSync(join(dataDir, "kube-api-store.json"), "{not json");
    await expect(startKubeApi({ dataDir })).rejects.toThrow(/kube-api-store\.json: invalid JSON/);
  });
});
