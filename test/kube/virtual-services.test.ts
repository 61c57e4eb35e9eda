import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKubeConfig } from "../../controller/kube/client.js";
import { kubeVirtualServiceStore, type VirtualServiceStore } from "../../controller/kube/virtual-services.js";
import { applyMesh } from "../../controller/mesh/apply.js";
import type { MeshIntent, VirtualService } from "../../controller/mesh/types.js";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { kubeRequest, mustRequest } from "./helpers.js";

const VS_PATH = "/apis/networking.istio.io/v1/namespaces/default/virtualservices";
const DR_PATH = "/apis/networking.istio.io/v1/namespaces/default/destinationrules";

const intent: MeshIntent = {
  canary: "default/reviews-v2",
  host: "reviews",
  active: true,
  weights: [
    { variant: "stable", subset: "v1", weightBp: 9000 },
    { variant: "canary", subset: "v2", weightBp: 1000 },
  ],
};

function virtualService(name: string): VirtualService {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name, namespace: "default" },
    spec: {
      hosts: ["reviews"],
      http: [
        {
          name: "admin",
          match: [{ uri: { prefix: "/admin" } }],
          route: [{ destination: { host: "admin" } }],
        },
        { name: "main", timeout: "2s", route: [{ destination: { host: "reviews", subset: "v1" } }] },
      ],
    },
  };
}

let server: KubeApiServer;
let store: VirtualServiceStore;

beforeAll(async () => {
  server = await startKubeApi({ port: 0 });
  const kc = loadKubeConfig({ kubeconfigText: server.kubeconfig() });
  if ("error" in kc) throw new Error(kc.error);
  store = kubeVirtualServiceStore(kc, { attempts: 2, baseDelayMs: 10 });
  await mustRequest(server, "POST", DR_PATH, {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "reviews", namespace: "default" },
    spec: { host: "reviews.default.svc.cluster.local", subsets: [{ name: "v1" }, { name: "v2" }] },
  });
  await mustRequest(server, "POST", DR_PATH, {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "ratings", namespace: "default" },
    spec: { host: "ratings", subsets: [{ name: "v9" }] },
  });
});

afterAll(async () => {
  await server?.close();
});

describe("VirtualServiceStore over the embedded API", () => {
  it("gets, replaces, and reports a stale resourceVersion as Conflict", async () => {
    await mustRequest(server, "POST", VS_PATH, virtualService("plain"));
    const read = await store.get("default", "plain");
    if (!read.ok) throw new Error(read.error.message);
    expect(read.value.spec?.http?.map((r) => r.name)).toEqual(["admin", "main"]);

    const edited = structuredClone(read.value);
    edited.spec!.http![1].timeout = "5s";
    const replaced = await store.replace(edited);
    if (!replaced.ok) throw new Error(replaced.error.message);
    expect(replaced.value.spec?.http?.[1].timeout).toBe("5s");
    expect(replaced.value.metadata?.resourceVersion).not.toBe(read.value.metadata?.resourceVersion);

    const stale = await store.replace(read.value);
    expect(stale).toMatchObject({ ok: false, error: { reason: "Conflict", code: 409 } });
  });

  it("reports a missing VirtualService as NotFound", async () => {
    const missing = await store.get("default", "nope");
    expect(missing).toMatchObject({ ok: false, error: { reason: "NotFound", code: 404 } });
  });

  it("lists the subsets DestinationRules define for a host (short or qualified name)", async () => {
    const subsets = await store.listDestinationRuleSubsets("default", "reviews");
    expect(subsets).toEqual({ ok: true, value: ["v1", "v2"] });
  });
});

describe("applyMesh end to end", () => {
  it("writes once, then finds nothing to do, then restores on deactivation", async () => {
    await mustRequest(server, "POST", VS_PATH, virtualService("e2e"));
    const first = await applyMesh(store, { namespace: "default", name: "e2e" }, intent, {
      checkSubsets: true,
    });
    expect(first).toMatchObject({ written: true });
    const stored = (await mustRequest(server, "GET", `${VS_PATH}/e2e`)) as unknown as VirtualService;
    expect(stored.spec?.http?.map((r) => r.name)).toEqual([
      "meshcanary-reviews-v2-stable",
      "meshcanary-reviews-v2-canary",
      "admin",
      "main",
    ]);
    expect(stored.spec?.http?.[0].timeout).toBe("2s");
    expect(stored.spec?.http?.[3].route?.map((d) => [d.destination.subset, d.weight])).toEqual([
      ["v1", 90],
      ["v2", 10],
    ]);

    const second = await applyMesh(store, { namespace: "default", name: "e2e" }, intent);
    expect(second).toEqual({ written: false, resourceVersion: stored.metadata?.resourceVersion });

    const restored = await applyMesh(
      store,
      { namespace: "default", name: "e2e" },
      { ...intent, active: false },
    );
    expect(restored).toMatchObject({ written: true });
    const after = (await mustRequest(server, "GET", `${VS_PATH}/e2e`)) as unknown as VirtualService;
    expect(after.spec).toEqual(virtualService("e2e").spec);
    expect(after.metadata?.annotations?.["meshcanary.io/state"]).toBeUndefined();
  });

  it("reports a subset no DestinationRule defines", async () => {
    await mustRequest(server, "POST", VS_PATH, virtualService("subsets"));
    const weights = [intent.weights[0], { variant: "canary", subset: "v3", weightBp: 1000 }];
    const outcome = await applyMesh(
      store,
      { namespace: "default", name: "subsets" },
      { ...intent, weights },
      {
        checkSubsets: true,
      },
    );
    expect(outcome).toMatchObject({ condition: "SubsetMissing" });
    expect("error" in outcome && outcome.error).toContain('weights[1].subset: subset "v3"');
  });

  it("re-plans after a conflict and keeps a concurrent writer's edit to another route", async () => {
    await mustRequest(server, "POST", VS_PATH, virtualService("race"));
    let raced = false;
    const racingStore: VirtualServiceStore = {
      ...store,
      async replace(vs) {
        if (!raced) {
          raced = true;
          // Someone else edits the admin route between our read and our write.
          const current = (await mustRequest(server, "GET", `${VS_PATH}/race`)) as unknown as VirtualService;
          current.spec!.http![0].timeout = "9s";
          await mustRequest(server, "PUT", `${VS_PATH}/race`, current);
        }
        return store.replace(vs);
      },
    };
    const outcome = await applyMesh(racingStore, { namespace: "default", name: "race" }, intent, {
      backoffMs: 5,
    });
    expect(raced).toBe(true);
    expect(outcome).toMatchObject({ written: true });
    const stored = (await mustRequest(server, "GET", `${VS_PATH}/race`)) as unknown as VirtualService;
    const admin = stored.spec?.http?.find((r) => r.name === "admin");
    expect(admin?.timeout).toBe("9s");
    expect(stored.spec?.http?.filter((r) => r.name?.startsWith("meshcanary-reviews-v2-"))).toHaveLength(2);
  });

  it("refuses to clobber a foreign edit of our route", async () => {
    await mustRequest(server, "POST", VS_PATH, virtualService("foreign"));
    await applyMesh(store, { namespace: "default", name: "foreign" }, intent);
    const current = (await mustRequest(server, "GET", `${VS_PATH}/foreign`)) as unknown as VirtualService;
    current.spec!.http![1].route![0].destination.subset = "v9";
    await mustRequest(server, "PUT", `${VS_PATH}/foreign`, current);
    const half = intent.weights.map((w) => ({ ...w, weightBp: 5000 }));
    const outcome = await applyMesh(
      store,
      { namespace: "default", name: "foreign" },
      { ...intent, weights: half },
    );
    expect(outcome).toMatchObject({ condition: "ForeignEdit" });
    const after = await kubeRequest(server, "GET", `${VS_PATH}/foreign`);
    expect(after.body.spec).toEqual(current.spec);
  });
});
