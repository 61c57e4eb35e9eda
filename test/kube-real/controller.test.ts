/**
 * The whole controller against each API server, installed from istio/ (on the real one it runs with
 * the meshcanary-controller ServiceAccount's token, so a verb missing from istio/controller/rbac.yaml
 * fails these scenarios): a rollout walked to Succeeded, one rolled back, an invalid Canary reported,
 * status written through the subresource only, Events, and the samples accepted by the real schemas.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import {
  eventsInclude,
  healthySpec,
  type Json,
  NS,
  startWorldOn,
  targetWeights,
  until,
  type World,
} from "../controller/harness.js";
import { phaseOf } from "../reliability/helpers.js";
import {
  applyKustomization,
  backendChoices,
  CONTROLLER_NS,
  CONTROLLER_SA,
  suiteTitle,
  type SuiteApi,
  type SuiteBackend,
} from "./backends.js";

const CANARIES = `/apis/meshcanary.io/v1alpha1/namespaces/${NS}/canaries`;

for (const choice of backendChoices()) {
  const title = suiteTitle("controller", choice);
  describe.skipIf(choice.skip !== undefined)(title, () => {
    let backend: SuiteBackend;
    let world: World<SuiteApi>;
    let telemetry: string;
    const sims: ReporterSim[] = [];

    beforeAll(async () => {
      backend = await choice.start();
      world = await startWorldOn(backend, ["reviews", "ratings", "details"]);
      const c = await world.controller();
      telemetry = `127.0.0.1:${c.telemetryPort}`;
    }, 120_000);
    afterAll(async () => {
      for (const s of sims) s.close();
      await world?.close();
    });

    function sim(canary: string, failureRate: { stable: number; canary: number }): ReporterSim {
      const s = startReporterSim({
        address: telemetry,
        canary: `${NS}/${canary}`,
        rps: 20_000,
        failureRate,
        intervalMs: 200,
        // Like the filter: a stream refused before the controller has seen the Canary is retried.
        reconnectMs: 100,
      });
      sims.push(s);
      return s;
    }

    // Scenarios (1) healthy to Succeeded, (2) faulty rolled back, (4) invalid Canary (formerly
    // test/controller/rollout.test.ts, embedded only).
    it("walks a healthy canary through every step to Succeeded, writing status and Events", async () => {
      await world.createCanary("healthy", healthySpec([10, 50]));
      const reporter = sim("healthy", { stable: 0.002, canary: 0.002 });
      const seenVs = new Set<number>();
      const seenDirective = new Set<number>();
      const done = await until(
        "healthy canary to succeed",
        async () => {
          const w = targetWeights(await world.vs("reviews"));
          if (w.v2 !== undefined) seenVs.add(w.v2);
          seenDirective.add(reporter.canaryWeightBp());
          const c = await world.canary("healthy");
          return c.status?.phase === "Succeeded" ? c : undefined;
        },
        30_000,
      );
      expect([...seenVs]).toEqual(expect.arrayContaining([10, 50]));
      expect([...seenDirective]).toEqual(expect.arrayContaining([1000, 5000]));
      expect(reporter.canaryWeightBp()).toBe(10000);
      // Succeeded: the target route sends everything to the canary subset, our routes are gone.
      const vs = await world.vs("reviews");
      expect(targetWeights(vs)).toEqual({ v2: 100 });
      expect((vs.spec.http as Json[]).filter((r) => r.name?.startsWith("meshcanary-"))).toEqual([]);
      const phases = (done.status.history as Json[]).map((h) => `${h.to}@${h.step}`);
      expect(phases).toEqual(["Progressing@0", "Progressing@1", "Promoting@1", "Succeeded@1"]);
      await eventsInclude(world, "healthy", ["Progressing", "Promoting", "Succeeded"]);
    }, 40_000);

    it("rolls a faulty canary back to 100% stable", async () => {
      const spec = healthySpec([20, 50]);
      await world.createCanary("faulty", {
        ...spec,
        host: "ratings",
        virtualService: { name: "ratings" },
        // The simulated reporter draws every request independently: one-second blocks are its honest
        // unit (the 10-s default guards real traffic's retries and pod bursts, at ~6 blocks to decide).
        analysis: { ...spec.analysis, blockDuration: "1s" },
      });
      const reporter = sim("faulty", { stable: 0.02, canary: 0.2 });
      const done = await phaseOf(world, "faulty", "RolledBack", undefined, 30_000);
      expect(done.status.weightBp).toBe(0);
      expect(done.status.lastDecision.action).toBe("rollback");
      const vs = await world.vs("ratings");
      expect(targetWeights(vs)).toEqual({ v1: 100 });
      expect((vs.spec.http as Json[]).map((r) => r.name)).toEqual(["primary"]);
      await until(
        "the last Directive at 0% canary",
        async () => reporter.canaryWeightBp() === 0 && reporter.directives.length > 1,
      );
      const route = reporter.directives.at(-1)!.routes.find((r) => r.canary === `${NS}/faulty`)!;
      expect(route.variants.map((v) => [v.name, v.weightBp])).toEqual([
        ["stable", 10000],
        ["canary", 0],
      ]);
      await eventsInclude(world, "faulty", ["RollingBack", "RolledBack"]);
    }, 40_000);

    it("reports what only the semantic rules reject as InvalidSpec, with every field path, leaving the VirtualService alone", async () => {
      const before = await world.vs("details");
      // The API server itself refuses schema errors (canary-schema.test.ts); these pass it.
      await world.createCanary("invalid", {
        ...healthySpec([10]),
        host: "details",
        virtualService: { name: "details" },
        sticky: {},
        analysis: { minStepDuration: "5m", maxStepDuration: "1m" },
      });
      const c = await until("InvalidSpec condition", async () => {
        const c = await world.canary("invalid");
        return c.status?.conditions?.some((x: Json) => x.reason === "InvalidSpec") ? c : undefined;
      });
      const ready = (c.status.conditions as Json[]).find((x) => x.type === "Ready");
      expect(ready.status).toBe("False");
      expect(ready.message).toContain("spec.sticky");
      expect(ready.message).toContain("spec.analysis.maxStepDuration");
      expect(c.status.phase).toBeUndefined();
      expect((await world.vs("details")).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
      await eventsInclude(world, "invalid", ["InvalidSpec"]);
    }, 30_000);

    it("keeps status out of main-endpoint writes and bumps generation only on spec changes", async () => {
      const c = await world.canary("healthy");
      const forged = {
        ...c,
        status: { ...c.status, phase: "Aborted" },
        metadata: { ...c.metadata, labels: { a: "b" } },
      };
      const put = await world.req("PUT", `${CANARIES}/healthy`, forged);
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      expect(put.body.status.phase).toBe("Succeeded");
      expect(put.body.metadata.generation).toBe(c.metadata.generation);
      const status = await world.req("PUT", `${CANARIES}/healthy/status`, {
        ...put.body,
        spec: { ...c.spec, host: "x" },
      });
      expect(status.status, JSON.stringify(status.body)).toBe(200);
      expect(status.body.spec.host).toBe(c.spec.host);
    });

    it("runs with a least-privilege token: the verbs rbac.yaml leaves out are forbidden", async () => {
      const as = backend.controllerReq!;
      const user = `system:serviceaccount:${CONTROLLER_NS}:${CONTROLLER_SA}`;
      expect((await as("GET", `${CANARIES}/healthy`)).status).toBe(200);
      const vs = `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices/reviews`;
      expect((await as("DELETE", vs)).status).toBe(403);
      const del = await as("DELETE", `${CANARIES}/healthy`);
      expect(del.status).toBe(403);
      expect(del.body).toMatchObject({
        kind: "Status",
        status: "Failure",
        reason: "Forbidden",
        code: 403,
        details: { name: "healthy", group: "meshcanary.io", kind: "canaries" },
        message: `canaries.meshcanary.io "healthy" is forbidden: User "${user}" cannot delete resource "canaries" in API group "meshcanary.io" in the namespace "${NS}"`,
      });
      const secrets = await as("GET", "/api/v1/namespaces/default/secrets");
      expect(secrets.status).toBe(403);
      expect(secrets.body.message).toBe(
        `secrets is forbidden: User "${user}" cannot list resource "secrets" in API group "" in the namespace "default"`,
      );
      // Allowed on the status subresource, not on its Lease outside the Role's namespace.
      expect((await as("GET", `${CANARIES}/healthy/status`)).status).toBe(200);
      const elsewhere = await as("GET", `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/x`);
      expect(elsewhere.status).toBe(403);
      const lease = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;
      const foreign = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "x" },
        spec: {},
      };
      expect((await as("POST", lease, foreign)).status).toBe(403);
    });

    // Embedded: served without a schema (for the sandbox's Gateway API shapes), so it cannot refuse
    // here what kube-apiserver refuses. HTTPRoute's schema carries 26 CEL x-kubernetes-validations rules, some
    // of which apply to this very route (backendRefs "Must have port for Service reference", the
    // defaulted matches[].path rules, the total-matches bound); the embedded server has no CEL
    // evaluator.
    it.skipIf(choice.name === "embedded")(
      "validates an HTTPRoute splitting on x-meshcanary-variant by Gateway API's schema (embedded: its CEL rules cannot be evaluated)",
      async () => {
        const routes = `/apis/gateway.networking.k8s.io/v1/namespaces/${NS}/httproutes`;
        const route = (name: string, header: string) => ({
          apiVersion: "gateway.networking.k8s.io/v1",
          kind: "HTTPRoute",
          metadata: { name },
          spec: {
            parentRefs: [{ name: "gateway" }],
            rules: [
              {
                matches: [{ headers: [{ name: header, value: "canary" }] }],
                backendRefs: [{ name: "reviews-v2", port: 9080 }],
              },
              { backendRefs: [{ name: "reviews-v1", port: 9080 }] },
            ],
          },
        });
        const ok = await world.req(
          "POST",
          `${routes}?fieldValidation=Strict`,
          route("variant", "x-meshcanary-variant"),
        );
        expect(ok.status, JSON.stringify(ok.body)).toBe(201);
        const bad = await world.req("POST", routes, route("bad-header", "x meshcanary"));
        expect(bad.status).toBe(422);
        expect(bad.body.message).toContain("spec.rules[0].matches[0].headers[0].name");
      },
    );

    it("accepts the samples and the gateway WasmPlugin under the installed schemas", async () => {
      for (const name of ["samples", "istio-system"]) {
        const ns = await world.req("POST", "/api/v1/namespaces", {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name },
        });
        expect(ns.status, JSON.stringify(ns.body)).toBe(201);
      }
      await applyKustomization(backend.req, "istio/samples", "samples");
      await applyKustomization(backend.req, "istio/gateway");
      const vs = await world.req(
        "GET",
        "/apis/networking.istio.io/v1/namespaces/samples/virtualservices/reviews",
      );
      expect(vs.status).toBe(200);
    });
  });
}
