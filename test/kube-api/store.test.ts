/** Write semantics of the object store, without HTTP: generation, no-op writes, history bounds, CRD checks, routing. */
import { describe, expect, it } from "vitest";
import { route } from "../../sandbox/kube-api/routes.js";
import { ObjectStore, type Target } from "../../sandbox/kube-api/store.js";
import type { KubeObject } from "../../sandbox/kube-api/types.js";
import { CANARY_CRD } from "./helpers.js";

function setup(historyLimit?: number) {
  const store = new ObjectStore({ historyLimit });
  const cm: Target = {
    type: store.registry.find("", "v1", "configmaps")!,
    version: "v1",
    namespace: "default",
  };
  return { store, cm };
}

function value<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe("ObjectStore", () => {
  it("seeds the default namespaces and counts resourceVersions globally", () => {
    const { store, cm } = setup();
    const before = store.resourceVersion();
    expect(before).toBe(4);
    const a = value(store.create(cm, { metadata: { name: "a" } }));
    const b = value(store.create(cm, { metadata: { name: "b" } }));
    expect([a.metadata.resourceVersion, b.metadata.resourceVersion]).toEqual(["5", "6"]);
  });

  it("bumps generation on data changes only and ignores no-op writes", () => {
    const { store, cm } = setup();
    const a = value(store.create(cm, { metadata: { name: "a" }, data: { k: "1" } }));
    const same = value(store.replace(cm, "a", structuredClone(a), "main"));
    expect(same.metadata.resourceVersion).toBe(a.metadata.resourceVersion);
    const labelled = value(
      store.replace(cm, "a", { ...a, metadata: { ...a.metadata, labels: { x: "y" } } }, "main"),
    );
    expect(labelled.metadata.generation).toBe(1);
    const changed = value(store.replace(cm, "a", { ...labelled, data: { k: "2" } }, "main"));
    expect(changed.metadata.generation).toBe(2);
    expect(changed.metadata.uid).toBe(a.metadata.uid);
  });

  it("keeps server-owned metadata on replace", () => {
    const { store, cm } = setup();
    const a = value(store.create(cm, { metadata: { name: "a" } }));
    const forged = {
      ...a,
      metadata: { ...a.metadata, uid: "forged", creationTimestamp: "1970-01-01T00:00:00Z" },
    };
    const r = value(store.replace(cm, "a", forged, "main"));
    expect([r.metadata.uid, r.metadata.creationTimestamp]).toEqual([
      a.metadata.uid,
      a.metadata.creationTimestamp,
    ]);
  });

  it("answers resume requests older than the retained history with 410", () => {
    const { store, cm } = setup(2);
    const start = store.resourceVersion();
    for (const name of ["a", "b", "c"]) value(store.create(cm, { metadata: { name } }));
    const old = store.changes.changesSince(start);
    expect(old.ok ? "ok" : old.error.code).toBe(410);
    const recent = value(store.changes.changesSince(start + 1));
    expect(recent.map((e) => e.object.metadata.name)).toEqual(["b", "c"]);
  });

  it("rejects bad bodies with the field path and value", () => {
    const { store, cm } = setup();
    const cases: [unknown, number, string][] = [
      [{ metadata: {} }, 422, "metadata.name"],
      [{ metadata: { name: "UPPER" } }, 422, '"UPPER"'],
      [{ metadata: { name: "a", labels: { n: 1 } } }, 422, "metadata.labels"],
      [{ kind: "Secret", metadata: { name: "a" } }, 400, "kind in the data (Secret)"],
      [{ apiVersion: "v2", metadata: { name: "a" } }, 400, "API version in the data (v2)"],
      [[1], 400, "JSON object"],
    ];
    for (const [body, code, text] of cases) {
      const r = store.create(cm, body);
      expect(r.ok ? 0 : r.error.code).toBe(code);
      expect(r.ok ? "" : r.error.message).toContain(text);
    }
  });

  it("validates CRDs and serves their resource", () => {
    const { store } = setup();
    const crdType: Target = {
      type: store.registry.find("apiextensions.k8s.io", "v1", "customresourcedefinitions")!,
      version: "v1",
    };
    const wrongName = store.create(crdType, { ...CANARY_CRD, metadata: { name: "canaries.example.com" } });
    expect(wrongName.ok ? "" : wrongName.error.message).toContain("metadata.name");
    const noScope = store.create(crdType, { ...CANARY_CRD, spec: { ...CANARY_CRD.spec, scope: "Galaxy" } });
    expect(noScope.ok ? "" : noScope.error.message).toContain("spec.scope");
    const crd = value(store.create(crdType, CANARY_CRD)) as KubeObject & {
      status: { conditions: { type: string }[] };
    };
    expect(crd.status.conditions.map((c) => c.type)).toContain("Established");
    const canary = store.registry.find("meshcanary.io", "v1alpha1", "canaries");
    expect(canary).toMatchObject({
      kind: "Canary",
      namespaced: true,
      statusSubresource: true,
      allowUnconditionalUpdate: false,
    });
  });

  it("folds Secret stringData into base64 data", () => {
    const { store } = setup();
    const t: Target = {
      type: store.registry.find("", "v1", "secrets")!,
      version: "v1",
      namespace: "default",
    };
    const s = value(store.create(t, { metadata: { name: "s" }, stringData: { token: "abc" } }));
    expect(s.data).toEqual({ token: "YWJj" });
    expect(s.stringData).toBeUndefined();
  });
});

describe("route", () => {
  const { store } = setup();
  const cases: [string, string, Record<string, unknown>][] = [
    ["/api", "coreVersions", {}],
    [
      "/apis/networking.istio.io/v1beta1",
      "resourceList",
      { group: "networking.istio.io", version: "v1beta1" },
    ],
    ["/api/v1/namespaces", "collection", {}],
    ["/api/v1/namespaces/default", "object", { name: "default" }],
    ["/api/v1/namespaces/default/status", "object", { name: "default", subresource: "status" }],
    ["/api/v1/namespaces/default/configmaps", "collection", {}],
    ["/api/v1/configmaps", "collection", {}],
    ["/api/v1/namespaces/default/configmaps/x", "object", { name: "x" }],
    ["/api/v1/namespaces/default/configmaps/x/status", "unknown", {}],
    ["/api/v1/configmaps/x", "unknown", {}],
    [
      "/apis/networking.istio.io/v1/namespaces/ns/virtualservices/vs/status",
      "object",
      { name: "vs", subresource: "status" },
    ],
    ["/apis/authentication.k8s.io/v1/tokenreviews", "review", { plural: "tokenreviews" }],
    ["/apis/nope.io/v1/things", "unknown", {}],
  ];
  it.each(cases)("%s → %s", (path, kind, fields) => {
    const r = route(store.registry, path);
    expect(r.kind).toBe(kind);
    expect(r).toMatchObject(fields);
  });
});
