/** The embedded API server driven by the real @kubernetes/client-node over HTTP on 127.0.0.1. */
import {
  ApiException,
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubernetesObject,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  VersionApi,
  Watch,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { CANARY_CRD_MODEL, kubeConfigFor, until } from "./helpers.js";

const NS = "default";
const VS = { group: "networking.istio.io", version: "v1", namespace: NS, plural: "virtualservices" };
const CANARY = { group: "meshcanary.io", version: "v1alpha1", namespace: NS, plural: "canaries" };
const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

type Obj = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

function virtualService(name: string, weight: number): Obj {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name, labels: { app: "shop" } },
    spec: {
      hosts: ["shop"],
      http: [
        {
          route: [
            { destination: { host: "shop", subset: "stable" }, weight: 100 - weight },
            { destination: { host: "shop", subset: "canary" }, weight },
          ],
        },
      ],
    },
  } as Obj;
}

async function apiError(p: Promise<unknown>): Promise<ApiException<unknown>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

function statusOf(e: ApiException<unknown>): { reason: string; code: number; message: string } {
  return typeof e.body === "string"
    ? JSON.parse(e.body)
    : (e.body as { reason: string; code: number; message: string });
}

let server: KubeApiServer;
let core: CoreV1Api;
let custom: CustomObjectsApi;

beforeAll(async () => {
  server = await startKubeApi({ port: 0 });
  const kc = kubeConfigFor(server);
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: CANARY_CRD_MODEL });
});

afterAll(async () => {
  await server.close();
});

describe("discovery and auth", () => {
  it("serves /version and rejects a wrong token with 401", async () => {
    const kc = kubeConfigFor(server);
    const info = await kc.makeApiClient(VersionApi).getCode();
    expect(info.gitVersion).toMatch(/^v1\.\d+/);
    const bad = kubeConfigFor(server);
    bad.users[0] = { ...bad.users[0]!, token: "wrong" };
    const e = await apiError(bad.makeApiClient(CoreV1Api).listNamespace());
    expect(e.code).toBe(401);
  });

  it("lists the CRD's group in /apis and its resource with a status subresource", async () => {
    const kc = kubeConfigFor(server);
    const headers = { Authorization: `Bearer ${server.token}` };
    const groups = (await (await fetch(`${server.url}/apis`, { headers })).json()) as {
      groups: { name: string }[];
    };
    expect(groups.groups.map((g) => g.name)).toEqual(
      expect.arrayContaining(["meshcanary.io", "networking.istio.io", "coordination.k8s.io"]),
    );
    const list = (await (await fetch(`${server.url}/apis/meshcanary.io/v1alpha1`, { headers })).json()) as {
      resources: { name: string; namespaced: boolean; kind: string }[];
    };
    expect(list.resources.map((r) => r.name)).toEqual(["canaries", "canaries/status"]);
    expect(list.resources[0]).toMatchObject({ namespaced: true, kind: "Canary" });
    expect(kc.getCurrentContext()).toBe("meshcanary-sandbox");
  });
});

describe("CRUD", () => {
  it("creates, reads, lists by label, replaces and deletes a VirtualService", async () => {
    const created = (await custom.createNamespacedCustomObject({
      ...VS,
      body: virtualService("shop", 10),
    })) as Obj;
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.generation).toBe(1);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);

    const dup = await apiError(
      custom.createNamespacedCustomObject({ ...VS, body: virtualService("shop", 10) }),
    );
    expect(dup.code).toBe(409);
    expect(statusOf(dup).reason).toBe("AlreadyExists");

    const got = (await custom.getNamespacedCustomObject({ ...VS, name: "shop" })) as Obj;
    expect(got.spec).toEqual(created.spec);

    await custom.createNamespacedCustomObject({
      ...VS,
      body: { ...virtualService("other", 0), metadata: { name: "other", labels: { app: "cart" } } },
    });
    const byLabel = (await custom.listNamespacedCustomObject({ ...VS, labelSelector: "app=shop" })) as {
      items: Obj[];
    };
    expect(byLabel.items.map((i) => i.metadata?.name)).toEqual(["shop"]);
    const byField = (await custom.listNamespacedCustomObject({
      ...VS,
      fieldSelector: "metadata.name=other",
    })) as { items: Obj[] };
    expect(byField.items.map((i) => i.metadata?.name)).toEqual(["other"]);

    const changed = virtualService("shop", 30);
    changed.metadata = { ...got.metadata };
    const replaced = (await custom.replaceNamespacedCustomObject({
      ...VS,
      name: "shop",
      body: changed,
    })) as Obj;
    expect(replaced.metadata?.generation).toBe(2);
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(got.metadata?.resourceVersion));

    const relabelled = {
      ...replaced,
      metadata: { ...replaced.metadata, labels: { app: "shop", tier: "web" } },
    };
    const afterLabel = (await custom.replaceNamespacedCustomObject({
      ...VS,
      name: "shop",
      body: relabelled,
    })) as Obj;
    expect(afterLabel.metadata?.generation).toBe(2);

    await custom.deleteNamespacedCustomObject({ ...VS, name: "other" });
    const missing = await apiError(custom.getNamespacedCustomObject({ ...VS, name: "other" }));
    expect(missing.code).toBe(404);
    expect(statusOf(missing).reason).toBe("NotFound");
  });

  it("serves the same VirtualService under v1beta1", async () => {
    await custom.createNamespacedCustomObject({ ...VS, body: virtualService("beta", 5) });
    const beta = (await custom.getNamespacedCustomObject({ ...VS, version: "v1beta1", name: "beta" })) as Obj;
    expect(beta.apiVersion).toBe("networking.istio.io/v1beta1");
    expect(beta.spec).toEqual(virtualService("beta", 5).spec);
  });

  it("answers a stale resourceVersion on replace with 409 Conflict", async () => {
    await custom.createNamespacedCustomObject({ ...VS, body: virtualService("stale", 1) });
    const first = (await custom.getNamespacedCustomObject({ ...VS, name: "stale" })) as Obj;
    await custom.replaceNamespacedCustomObject({
      ...VS,
      name: "stale",
      body: { ...first, spec: virtualService("x", 2).spec },
    });
    const e = await apiError(
      custom.replaceNamespacedCustomObject({
        ...VS,
        name: "stale",
        body: { ...first, spec: virtualService("x", 3).spec },
      }),
    );
    expect(e.code).toBe(409);
    expect(statusOf(e).reason).toBe("Conflict");
  });

  it("rejects an invalid name with 422 naming the field and value", async () => {
    const e = await apiError(
      core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "Bad_Name" } } }),
    );
    expect(e.code).toBe(422);
    expect(statusOf(e).message).toContain("metadata.name");
    expect(statusOf(e).message).toContain("Bad_Name");
  });

  it("requires the namespace to exist and assigns generateName", async () => {
    const e = await apiError(
      core.createNamespacedConfigMap({ namespace: "nowhere", body: { metadata: { name: "cm" } } }),
    );
    expect(e.code).toBe(404);
    await core.createNamespace({ body: { metadata: { name: "team-a" } } });
    const cm = await core.createNamespacedConfigMap({
      namespace: "team-a",
      body: { metadata: { generateName: "cfg-" }, data: { a: "1" } },
    });
    expect(cm.metadata?.name).toMatch(/^cfg-[0-9a-f]{5}$/);
    expect(cm.data).toEqual({ a: "1" });
  });

  it("works through KubernetesObjectApi (discovery-driven)", async () => {
    const objects = KubernetesObjectApi.makeApiClient(kubeConfigFor(server));
    const created = await objects.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "generic", namespace: NS },
      data: { k: "v" },
    } as KubernetesObject);
    expect(created.metadata?.uid).toBeDefined();
    const read = await objects.read({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "generic", namespace: NS },
    });
    expect((read as unknown as { data: Record<string, string> }).data).toEqual({ k: "v" });
  });
});

describe("Canary custom resource", () => {
  it("keeps .status out of main-endpoint writes and updates it only via /status", async () => {
    const body = {
      apiVersion: "meshcanary.io/v1alpha1",
      kind: "Canary",
      metadata: { name: "web" },
      spec: { target: "shop" },
      status: { phase: "Ignored" },
    };
    const created = (await custom.createNamespacedCustomObject({ ...CANARY, body })) as Obj;
    expect(created.status).toBeUndefined();

    const withStatus = { ...created, status: { phase: "Progressing", weight: 500 } };
    const updated = (await custom.replaceNamespacedCustomObjectStatus({
      ...CANARY,
      name: "web",
      body: withStatus,
    })) as Obj;
    expect(updated.status).toEqual({ phase: "Progressing", weight: 500 });
    expect(updated.metadata?.generation).toBe(1);
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(
      Number(created.metadata?.resourceVersion),
    );

    const viaMain = { ...updated, spec: { target: "shop", step: 2 }, status: { phase: "Hacked" } };
    const mainResult = (await custom.replaceNamespacedCustomObject({
      ...CANARY,
      name: "web",
      body: viaMain,
    })) as Obj;
    expect(mainResult.status).toEqual({ phase: "Progressing", weight: 500 });
    expect(mainResult.spec).toEqual({ target: "shop", step: 2 });
    expect(mainResult.metadata?.generation).toBe(2);

    const patched = (await custom.patchNamespacedCustomObjectStatus(
      { ...CANARY, name: "web", body: { status: { weight: 1000 } } },
      MERGE,
    )) as Obj;
    expect(patched.status).toEqual({ phase: "Progressing", weight: 1000 });
    expect(patched.spec).toEqual({ target: "shop", step: 2 });
  });

  it("requires metadata.resourceVersion on replace of a custom resource (422)", async () => {
    await custom.createNamespacedCustomObject({ ...CANARY, body: { metadata: { name: "norv" }, spec: {} } });
    const e = await apiError(
      custom.replaceNamespacedCustomObject({
        ...CANARY,
        name: "norv",
        body: { metadata: { name: "norv" }, spec: { a: 1 } },
      }),
    );
    expect(e.code).toBe(422);
    expect(statusOf(e).message).toContain("metadata.resourceVersion");
  });
});

describe("patch", () => {
  it("applies a JSON patch (client-node's default Content-Type) including a test op", async () => {
    await custom.createNamespacedCustomObject({ ...VS, body: virtualService("jp", 10) });
    const path = "/spec/http/0/route/1/weight";
    const ok = (await custom.patchNamespacedCustomObject({
      ...VS,
      name: "jp",
      body: [
        { op: "test", path, value: 10 },
        { op: "replace", path, value: 20 },
      ],
    })) as Obj;
    expect((ok.spec as { http: { route: { weight: number }[] }[] }).http[0]!.route[1]!.weight).toBe(20);
    const failed = await apiError(
      custom.patchNamespacedCustomObject({
        ...VS,
        name: "jp",
        body: [
          { op: "test", path, value: 10 },
          { op: "replace", path, value: 99 },
        ],
      }),
    );
    expect(failed.code).toBe(422);
    const after = (await custom.getNamespacedCustomObject({ ...VS, name: "jp" })) as Obj;
    expect((after.spec as { http: { route: { weight: number }[] }[] }).http[0]!.route[1]!.weight).toBe(20);
  });

  it("applies a merge patch sent with setHeaderOptions(Content-Type, PatchStrategy.MergePatch)", async () => {
    await custom.createNamespacedCustomObject({ ...VS, body: virtualService("mp", 10) });
    const patched = (await custom.patchNamespacedCustomObject(
      {
        ...VS,
        name: "mp",
        body: { metadata: { labels: { app: null, owner: "meshcanary" } }, spec: { gateways: ["mesh"] } },
      },
      MERGE,
    )) as Obj;
    expect(patched.metadata?.labels).toEqual({ owner: "meshcanary" });
    expect(patched.spec?.gateways).toEqual(["mesh"]);
    expect(patched.spec?.hosts).toEqual(["shop"]);
    expect(patched.metadata?.generation).toBe(2);
  });

  it("treats a patch carrying a stale resourceVersion as a 409 precondition failure", async () => {
    const cm = await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: "rvpatch" }, data: { a: "1" } },
    });
    await core.patchNamespacedConfigMap(
      { namespace: NS, name: "rvpatch", body: { data: { a: "2" } } },
      MERGE,
    );
    const e = await apiError(
      core.patchNamespacedConfigMap(
        {
          namespace: NS,
          name: "rvpatch",
          body: { metadata: { resourceVersion: cm.metadata?.resourceVersion }, data: { a: "3" } },
        },
        MERGE,
      ),
    );
    expect(e.code).toBe(409);
  });

  it("answers server-side apply with 415", async () => {
    const e = await apiError(
      core.patchNamespacedConfigMap(
        { namespace: NS, name: "rvpatch", body: { data: { a: "4" } } },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      ),
    );
    expect(e.code).toBe(415);
  });
});

describe("leases and events", () => {
  it("creates and renews a Lease; a stale renewal gets 409", async () => {
    const leases = kubeConfigFor(server).makeApiClient(CoordinationV1Api);
    const body = {
      metadata: { name: "meshcanary-leader" },
      spec: { holderIdentity: "a", leaseDurationSeconds: 15 },
    };
    const lease = await leases.createNamespacedLease({ namespace: NS, body });
    const renewTime = new Date();
    const renewed = await leases.replaceNamespacedLease({
      namespace: NS,
      name: "meshcanary-leader",
      body: { ...lease, spec: { ...lease.spec, renewTime, holderIdentity: "a" } },
    });
    // client-node 1.4 hands MicroTime fields back as strings, not Date objects.
    expect(new Date(String(renewed.spec?.renewTime)).getTime()).toBe(renewTime.getTime());
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(
      Number(lease.metadata?.resourceVersion),
    );
    const e = await apiError(
      leases.replaceNamespacedLease({
        namespace: NS,
        name: "meshcanary-leader",
        body: { ...lease, spec: { ...lease.spec, holderIdentity: "b" } },
      }),
    );
    expect(e.code).toBe(409);
    const read = await leases.readNamespacedLease({ namespace: NS, name: "meshcanary-leader" });
    expect(read.spec?.holderIdentity).toBe("a");
  });

  it("records Events and lists them by involvedObject", async () => {
    await core.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { generateName: "web." },
        involvedObject: { kind: "Canary", name: "web", namespace: NS, apiVersion: "meshcanary.io/v1alpha1" },
        reason: "Promoted",
        message: "canary promoted",
        type: "Normal",
      },
    });
    const events = await core.listNamespacedEvent({
      namespace: NS,
      fieldSelector: "involvedObject.name=web",
    });
    expect(events.items.map((e) => e.reason)).toEqual(["Promoted"]);
  });
});

describe("fault injection", () => {
  it("fails the next matching request with 500, then serves normally", async () => {
    server.faults.failNext({ method: "GET", path: /\/configmaps\/rvpatch$/, status: 500 });
    const e = await apiError(core.readNamespacedConfigMap({ namespace: NS, name: "rvpatch" }));
    expect(e.code).toBe(500);
    const cm = await core.readNamespacedConfigMap({ namespace: NS, name: "rvpatch" });
    expect(cm.metadata?.name).toBe("rvpatch");
    expect(server.faults.pending()).toBe(0);
  });

  it("injects 409 and 503 for N matching writes only", async () => {
    server.faults.failNext({ method: "PATCH", path: /\/configmaps\//, status: 503, times: 2 });
    for (let i = 0; i < 2; i++) {
      const e = await apiError(
        core.patchNamespacedConfigMap(
          { namespace: NS, name: "rvpatch", body: { data: { n: String(i) } } },
          MERGE,
        ),
      );
      expect(e.code).toBe(503);
    }
    const cm = await core.patchNamespacedConfigMap(
      { namespace: NS, name: "rvpatch", body: { data: { n: "ok" } } },
      MERGE,
    );
    expect(cm.data?.n).toBe("ok");
  });
});

describe("watch", () => {
  it("an informer sees add, update and delete", async () => {
    const kc = kubeConfigFor(server);
    const path = `/apis/meshcanary.io/v1alpha1/namespaces/${NS}/canaries`;
    const informer = makeInformer<Obj>(kc, path, () => custom.listNamespacedCustomObject(CANARY) as never);
    const seen: string[] = [];
    informer.on("add", (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on("update", (o) => seen.push(`update ${o.metadata?.name} ${JSON.stringify(o.spec)}`));
    informer.on("delete", (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    try {
      await until("initial list", () => seen.includes("add web"));
      await custom.createNamespacedCustomObject({
        ...CANARY,
        body: { metadata: { name: "inf" }, spec: { v: 1 } },
      });
      await until("add inf", () => seen.includes("add inf"));
      await custom.patchNamespacedCustomObject({ ...CANARY, name: "inf", body: { spec: { v: 2 } } }, MERGE);
      await until("update inf", () => seen.includes('update inf {"v":2}'));
      await custom.deleteNamespacedCustomObject({ ...CANARY, name: "inf" });
      await until("delete inf", () => seen.includes("delete inf"));
      expect(informer.get("inf", NS)).toBeUndefined();
    } finally {
      await informer.stop();
    }
  });

  it("resumes from a resourceVersion, replaying only later changes", async () => {
    const start = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "w1" } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "w2" } } });
    await core.deleteNamespacedConfigMap({ namespace: NS, name: "w1" });
    const events: string[] = [];
    const watch = new Watch(kubeConfigFor(server));
    const ctl = await watch.watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: start.metadata?.resourceVersion },
      (type, obj: Obj) => events.push(`${type} ${obj.metadata?.name}`),
      () => {},
    );
    try {
      await until("replay", () => events.length >= 2);
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "w3" } } });
      await until("live event", () => events.length >= 3);
      expect(events).toEqual(["ADDED w2", "DELETED w1", "ADDED w3"]);
    } finally {
      ctl.abort();
    }
  });

  it("sends BOOKMARK events when allowed and ends at timeoutSeconds", async () => {
    const events: string[] = [];
    let ended = false;
    const ctl = await new Watch(kubeConfigFor(server)).watch(
      `/api/v1/namespaces/${NS}/secrets`,
      {
        allowWatchBookmarks: true,
        timeoutSeconds: 1,
        resourceVersion: String(server.store.resourceVersion()),
      },
      (type, obj: Obj) => events.push(`${type} ${obj.metadata?.resourceVersion}`),
      () => {
        ended = true;
      },
    );
    await until("server-side timeout", () => ended);
    ctl.abort();
    expect(events).toEqual([`BOOKMARK ${server.store.resourceVersion()}`]);
  });
});
