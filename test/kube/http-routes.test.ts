import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKubeConfig } from "../../controller/kube/client.js";
import { type HttpRouteStore, kubeHttpRouteStore } from "../../controller/kube/http-routes.js";
import { applyHttpRoute } from "../../controller/mesh/apply-http-route.js";
import type { HttpRouteObject } from "../../controller/mesh/http-route-types.js";
import type { MeshIntent } from "../../controller/mesh/types.js";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { mustRequest } from "./helpers.js";

const PATH = "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes";
const ref = { namespace: "default", name: "reviews" };
const intent: MeshIntent = {
  canary: "default/reviews",
  host: "reviews.default.svc.cluster.local",
  active: true,
  weights: [
    { variant: "stable", subset: "reviews-v1", weightBp: 9000 },
    { variant: "canary", subset: "reviews-v2", weightBp: 1000 },
  ],
};

const route: HttpRouteObject = {
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "HTTPRoute",
  metadata: { name: "reviews", namespace: "default" },
  spec: {
    parentRefs: [{ group: "", kind: "Service", name: "reviews", port: 9080 }],
    rules: [
      {
        name: "admin",
        matches: [{ path: { type: "PathPrefix", value: "/admin" } }],
        backendRefs: [{ name: "admin", port: 80 }],
      },
      { name: "primary", backendRefs: [{ name: "reviews-v1", port: 9080 }] },
    ],
  },
};

let server: KubeApiServer;
let store: HttpRouteStore;

beforeAll(async () => {
  server = await startKubeApi({ port: 0 });
  const kc = loadKubeConfig({ kubeconfigText: server.kubeconfig() });
  if ("error" in kc) throw new Error(kc.error);
  store = kubeHttpRouteStore(kc, { attempts: 2, baseDelayMs: 10 });
  await mustRequest(server, "POST", PATH, route);
});
afterAll(() => server.close());

const read = async () => {
  const r = await store.get("default", "reviews");
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

describe("applyHttpRoute against the API server", () => {
  it("writes on change with the read resourceVersion, and not at all when nothing changes", async () => {
    const before = await read();
    const first = await applyHttpRoute(store, ref, intent);
    expect(first).toMatchObject({ written: true });
    const after = await read();
    expect(Number(after.metadata?.resourceVersion)).toBeGreaterThan(Number(before.metadata?.resourceVersion));
    expect(after.spec?.rules?.map((r) => r.name)).toEqual([
      "meshcanary-reviews-stable",
      "meshcanary-reviews-canary",
      "admin",
      "primary",
    ]);
    const again = await applyHttpRoute(store, ref, intent);
    expect(again).toEqual({ written: false, resourceVersion: after.metadata?.resourceVersion });
  });

  it("a foreign writer between read and write: re-read, re-plan, and their edit to a rule we do not own survives", async () => {
    let raced = false;
    const racing: HttpRouteStore = {
      get: (ns, name) => store.get(ns, name),
      async replace(r) {
        if (!raced) {
          raced = true;
          const current = await read();
          current.spec!.rules!.find((x) => x.name === "admin")!.backendRefs = [
            { name: "admin-v2", port: 80 },
          ];
          const edited = await store.replace(current);
          if (!edited.ok) throw new Error(edited.error.message);
        }
        return store.replace(r);
      },
    };
    const outcome = await applyHttpRoute(
      racing,
      ref,
      { ...intent, active: false, weights: [] },
      { backoffMs: 1 },
    );
    expect(outcome).toMatchObject({ written: true });
    const restored = await read();
    expect(restored.spec?.rules).toEqual([
      {
        name: "admin",
        matches: [{ path: { type: "PathPrefix", value: "/admin" } }],
        backendRefs: [{ name: "admin-v2", port: 80 }],
      },
      { name: "primary", backendRefs: [{ name: "reviews-v1", port: 9080 }] },
    ]);
    expect(restored.metadata?.annotations?.["meshcanary.io/state"]).toBeUndefined();
  });

  it("names a missing route HTTPRouteNotFound", async () => {
    const outcome = await applyHttpRoute(store, { namespace: "default", name: "nope" }, intent);
    expect(outcome).toMatchObject({ condition: "HTTPRouteNotFound" });
    expect("error" in outcome && outcome.error).toContain("HTTPRoute default/nope");
  });
});
