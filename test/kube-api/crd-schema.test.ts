/**
 * Regression tests for differences test/kube-real found between the embedded server and a real
 * kube-apiserver: custom resources are pruned to and validated against their CRD's schema (it used
 * to store anything), fieldValidation=Strict refuses undeclared fields with the real wording, and
 * the install manifests' RBAC and security.istio.io kinds are served.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { kubeRequest, mustRequest } from "../kube/helpers.js";
import { WIDGET_CRD } from "./helpers.js";

const WIDGETS = "/apis/example.com/v1/namespaces/default/widgets";

let server: KubeApiServer;
beforeAll(async () => {
  server = await startKubeApi({ port: 0 });
  await mustRequest(server, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", WIDGET_CRD);
});
afterAll(() => server.close());

const widget = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: "example.com/v1",
  kind: "Widget",
  metadata: { name },
  spec,
});

describe("custom resources against their CRD schema", () => {
  it("prunes undeclared fields (keeping preserve-unknown-fields subtrees) unless fieldValidation=Strict", async () => {
    const spec = { size: 3, bogus: 1, extra: { anything: { deep: true } }, parts: [{ id: "a", junk: 2 }] };
    const created = await mustRequest(server, "POST", WIDGETS, widget("pruned", spec));
    expect(created.spec).toEqual({ size: 3, extra: { anything: { deep: true } }, parts: [{ id: "a" }] });
    const strict = await kubeRequest(
      server,
      "POST",
      `${WIDGETS}?fieldValidation=Strict`,
      widget("strict", spec),
    );
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe(
      'Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.bogus", unknown field "spec.parts[0].junk"',
    );
  });

  it("rejects schema violations with 422, every field path and the real server's wording", async () => {
    const bad = { color: "green", port: 1.5, labels: { a: "toolong" }, note: null, parts: [{}, {}, {}] };
    const r = await kubeRequest(server, "POST", WIDGETS, widget("bad", bad));
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe("Invalid");
    const causes = (r.body.details as { causes: { field: string }[] }).causes.map((c) => c.field);
    // The wording below is what kube-apiserver v1.36 answers for the same CRD and object.
    expect(causes.sort()).toEqual(["spec.color", "spec.labels.a", "spec.parts", "spec.port", "spec.size"]);
    expect(r.body.message).toMatch(
      /^Widget\.example\.com "bad" is invalid: \[.*, spec\.size: Required value\]$/,
    );
    for (const detail of [
      'spec.port: Invalid value: "number": spec.port in body must be of type integer,string: "number"',
      'spec.color: Unsupported value: "green": supported values: "red", "blue"',
      "spec.labels.a: Too long: may not be more than 5 bytes",
      "spec.parts: Too many: 3: must have at most 2 items",
    ]) {
      expect(r.body.message).toContain(detail);
    }
    const big = await kubeRequest(server, "POST", WIDGETS, widget("big", { size: 11 }));
    expect(big.body.message).toBe(
      'Widget.example.com "big" is invalid: spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10',
    );
    expect(
      (await kubeRequest(server, "POST", WIDGETS, widget("ok", { size: 10, port: "http" }))).status,
    ).toBe(201);
  });

  it("validates what the status subresource writes", async () => {
    const w = await mustRequest(server, "POST", WIDGETS, widget("st", { size: 1 }));
    const bad = await kubeRequest(server, "PUT", `${WIDGETS}/st/status`, {
      ...w,
      status: { phase: "lower" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain("status.phase");
    const good = await kubeRequest(server, "PUT", `${WIDGETS}/st/status`, {
      ...w,
      status: { phase: "Up", x: 1 },
    });
    expect(good.status).toBe(200);
    expect(good.body.status).toEqual({ phase: "Up" });
  });

  it("serves the install manifests' RBAC and Istio security kinds", async () => {
    const role = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "r" },
      rules: [],
    };
    expect(
      (await kubeRequest(server, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", role)).status,
    ).toBe(201);
    const pa = {
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "p" },
      spec: {},
    };
    const path = "/apis/security.istio.io/v1/namespaces/default/peerauthentications";
    expect((await kubeRequest(server, "POST", path, pa)).status).toBe(201);
  });
});
