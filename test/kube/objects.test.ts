/**
 * controller/kube/objects.ts applies manifests through client-node's generic API. Regression: it
 * used to send a CRD without its x-kubernetes-preserve-unknown-fields markers (the typed serializer
 * drops wire names), so the API server pruned the Canary's status.analysisState on every write —
 * hidden until the embedded server pruned like a real one (test/kube-real found it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKubeConfig } from "../../controller/kube/client.js";
import { kubeObjectStore, type Manifest } from "../../controller/kube/objects.js";
import { canaryCrd } from "../../controller/spec/crd.js";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { minimal } from "../fixtures/spec/rejections.js";
import { mustRequest } from "./helpers.js";

const CRD = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/canaries.meshcanary.io";
const CANARIES = "/apis/meshcanary.io/v1alpha1/namespaces/default/canaries";

let server: KubeApiServer;
beforeAll(async () => {
  server = await startKubeApi({ port: 0 });
});
afterAll(() => server.close());

describe("kubeObjectStore", () => {
  it("applies a CRD with its x-kubernetes-* markers, on create and on replace", async () => {
    const kc = loadKubeConfig({ kubeconfigText: server.kubeconfig() });
    if ("error" in kc) throw new Error(kc.error);
    const store = kubeObjectStore(kc);
    const crd = canaryCrd() as Manifest;
    for (let i = 0; i < 2; i++) {
      const applied = await store.apply(crd);
      expect(applied).not.toBeInstanceOf(Error);
      const stored = await mustRequest(server, "GET", CRD);
      const sent = crd as unknown as { spec: { versions: unknown[] } };
      expect((stored.spec as { versions: unknown[] }).versions).toEqual(sent.spec.versions);
    }
    const canary = await mustRequest(server, "POST", CANARIES, { ...minimal(), metadata: { name: "kept" } });
    const analysisState = { version: 1, checks: [{ name: "failure-rate", e: 0.5 }] };
    const written = await mustRequest(server, "PUT", `${CANARIES}/kept/status`, {
      ...canary,
      status: { phase: "Progressing", analysisState },
    });
    expect((written.status as { analysisState: unknown }).analysisState).toEqual(analysisState);
  });
});
