/**
 * A Canary on a Gateway API HTTPRoute, on both API servers, with the controller running under its
 * own ServiceAccount token (so the httproutes grant in istio/controller/rbac.yaml is exercised). On
 * kube-apiserver the route is stored under Gateway API v1.6.3's CRD, whose defaulting and CEL
 * rules (Service backends need a port, at most 16 rules, under 128 matches) apply to every write
 * the controller makes; the embedded server stores it without a schema.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthySpec, type Json, NS, startWorldOn, until, type World } from "../controller/harness.js";
import { backendChoices, type SuiteApi, type SuiteBackend, suiteTitle } from "./backends.js";

const ROUTES = `/apis/gateway.networking.k8s.io/v1/namespaces/${NS}/httproutes`;

const userRoute = {
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "HTTPRoute",
  metadata: { name: "reviews", namespace: NS },
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

for (const choice of backendChoices()) {
  describe.skipIf(choice.skip !== undefined)(suiteTitle("HTTPRoute canary", choice), () => {
    let backend: SuiteBackend;
    let world: World<SuiteApi>;

    beforeAll(async () => {
      backend = await choice.start();
      world = await startWorldOn(backend, ["reviews"]);
    }, 120_000);
    afterAll(async () => {
      await world?.close();
    });

    it("writes the split with pins into the route, then restores what the server stored on abort", async () => {
      const created = await world.req("POST", `${ROUTES}?fieldValidation=Strict`, userRoute);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const stored = created.body.spec;
      const c = await world.controller();
      await world.createCanary(
        "reviews",
        healthySpec([10, 50], {
          virtualService: undefined,
          httpRoute: { name: "reviews", rule: "primary" },
          stable: { service: "reviews-v1" },
          canary: { service: "reviews-v2" },
          analysis: { minStepDuration: "60s" },
        }),
      );
      const split = await until(
        "the split",
        async () => {
          const r = (await world.req("GET", `${ROUTES}/reviews`)).body;
          return r.spec.rules.length === 8 ? r : undefined;
        },
        20_000,
      );
      const primary = split.spec.rules.find((r: Json) => r.name === "primary");
      expect(primary.backendRefs.map((b: Json) => [b.name, b.weight])).toEqual([
        ["reviews-v1", 9000],
        ["reviews-v2", 1000],
      ]);
      // Re-planning what the server returned (its defaults filled in) writes nothing more.
      const version = split.metadata.resourceVersion;
      await new Promise((r) => setTimeout(r, 1500));
      expect((await world.req("GET", `${ROUTES}/reviews`)).body.metadata.resourceVersion).toBe(version);

      await world.annotate("reviews", "abort/1");
      const restored = await until(
        "the original route",
        async () => {
          const r = (await world.req("GET", `${ROUTES}/reviews`)).body;
          return r.spec.rules.length === 2 ? r : undefined;
        },
        20_000,
      );
      expect(restored.spec).toEqual(stored);
      expect(restored.metadata.annotations?.["meshcanary.io/state"]).toBeUndefined();
      await c.close();
    }, 60_000);
  });
}
