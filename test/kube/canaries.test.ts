import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CanaryObject, patchCanaryStatus, watchCanaries } from "../../controller/kube/canaries.js";
import { type KubeConfig, loadKubeConfig } from "../../controller/kube/client.js";
import { kubeEventRecorder } from "../../controller/kube/events.js";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { CANARY_CRD, mustRequest, until } from "./helpers.js";

const CANARIES = "/apis/meshcanary.io/v1alpha1/namespaces/default/canaries";

let server: KubeApiServer;
let kc: KubeConfig;

function canary(name: string, weight: number) {
  return {
    apiVersion: "meshcanary.io/v1alpha1",
    kind: "Canary",
    metadata: { name, namespace: "default" },
    spec: { host: "reviews", steps: [{ weight }] },
  };
}

beforeAll(async () => {
  server = await startKubeApi({ port: 0 });
  const loaded = loadKubeConfig({ kubeconfigText: server.kubeconfig() });
  if ("error" in loaded) throw new Error(loaded.error);
  kc = loaded;
  await mustRequest(server, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CANARY_CRD);
});

afterAll(async () => {
  await server?.close();
});

describe("loadKubeConfig", () => {
  it("names an unknown context", () => {
    const result = loadKubeConfig({ kubeconfigText: server.kubeconfig(), context: "prod" });
    expect(result).toMatchObject({ error: expect.stringContaining('context: no context "prod"') });
  });
});

describe("Canary informer", () => {
  it("delivers add, update and delete as plain objects", async () => {
    const seen: Array<[string, string, unknown]> = [];
    const note = (verb: string) => (c: CanaryObject) => seen.push([verb, c.metadata.name, c.spec]);
    await mustRequest(server, "POST", CANARIES, canary("before-start", 5));
    const watch = await watchCanaries(kc, {
      onAdd: note("add"),
      onUpdate: note("update"),
      onDelete: note("delete"),
    });
    if (!watch.ok) throw new Error(watch.error.message);
    try {
      expect(seen).toContainEqual(["add", "before-start", { host: "reviews", steps: [{ weight: 5 }] }]);
      await mustRequest(server, "POST", CANARIES, canary("live", 10));
      await until("add of live", () => seen.some(([v, n]) => v === "add" && n === "live"));
      const current = await mustRequest(server, "GET", `${CANARIES}/live`);
      await mustRequest(server, "PUT", `${CANARIES}/live`, {
        ...current,
        spec: { host: "reviews", steps: [{ weight: 20 }] },
      });
      await until("update of live", () => seen.some(([v, n]) => v === "update" && n === "live"));
      expect(seen.find(([v, n]) => v === "update" && n === "live")?.[2]).toEqual({
        host: "reviews",
        steps: [{ weight: 20 }],
      });
      await mustRequest(server, "DELETE", `${CANARIES}/live`);
      await until("delete of live", () => seen.some(([v, n]) => v === "delete" && n === "live"));
      expect(watch.value.list().map((c) => c.metadata.name)).toEqual(["before-start"]);
    } finally {
      await watch.value.stop();
    }
  });
});

describe("patchCanaryStatus", () => {
  it("merges status through the subresource and leaves spec alone", async () => {
    await mustRequest(server, "POST", CANARIES, canary("status", 5));
    const first = await patchCanaryStatus(kc, "default", "status", { phase: "Progressing", step: 1 });
    if (!first.ok) throw new Error(first.error.message);
    const second = await patchCanaryStatus(kc, "default", "status", { step: 2 });
    if (!second.ok) throw new Error(second.error.message);
    const stored = await mustRequest(server, "GET", `${CANARIES}/status`);
    expect(stored.status).toEqual({ phase: "Progressing", step: 2 });
    expect(stored.spec).toEqual(canary("status", 5).spec);
  });

  it("reports a missing Canary as NotFound", async () => {
    const result = await patchCanaryStatus(kc, "default", "ghost", { phase: "Progressing" });
    expect(result).toMatchObject({ ok: false, error: { reason: "NotFound", code: 404 } });
  });
});

describe("kubeEventRecorder", () => {
  it("creates an Event and aggregates repeats into its count", async () => {
    const recorder = kubeEventRecorder(kc, { component: "meshcanary-controller" });
    const about = {
      apiVersion: "meshcanary.io/v1alpha1",
      kind: "Canary",
      namespace: "default",
      name: "events",
    };
    const note = { type: "Warning" as const, reason: "AnalysisFailed", message: "error rate 5% > 1%" };
    const first = await recorder.record(about, note);
    const second = await recorder.record(about, note);
    const other = await recorder.record(about, {
      type: "Normal",
      reason: "StepAdvanced",
      message: "weight 20%",
    });
    if (!first.ok || !second.ok || !other.ok) throw new Error("record failed");
    expect(second.value).toEqual({ name: first.value.name, count: 2 });
    expect(other.value.name).not.toBe(first.value.name);
    const stored = await mustRequest(server, "GET", `/api/v1/namespaces/default/events/${first.value.name}`);
    expect(stored).toMatchObject({
      count: 2,
      reason: "AnalysisFailed",
      type: "Warning",
      message: "error rate 5% > 1%",
      involvedObject: { kind: "Canary", name: "events", namespace: "default" },
      source: { component: "meshcanary-controller" },
    });
  });
});
