/**
 * A Canary on a Gateway API HTTPRoute, driven by the real controller against the embedded
 * Kubernetes API: the split is written into the route, a VirtualService is never touched, and the
 * route is restored exactly on abort and on deletion mid-rollout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthySpec, type Json, NS, startWorld, until, type World } from "./harness.js";

const CANARIES = `/apis/meshcanary.io/v1alpha1/namespaces/${NS}/canaries`;
const ROUTES = `/apis/gateway.networking.k8s.io/v1/namespaces/${NS}/httproutes`;
let world: World;

beforeAll(async () => {
  world = await startWorld(["reviews"]);
});
afterAll(async () => {
  await world.close();
});

const original = (name: string) => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "HTTPRoute",
  metadata: { name, namespace: NS },
  spec: {
    parentRefs: [{ group: "", kind: "Service", name, port: 9080 }],
    rules: [{ name: "primary", backendRefs: [{ name: `${name}-v1`, port: 9080 }] }],
  },
});

const specFor = (name: string) =>
  healthySpec([10, 50], {
    host: `${name}.${NS}.svc.cluster.local`,
    virtualService: undefined,
    httpRoute: { name, rule: "primary" },
    stable: { service: `${name}-v1` },
    canary: { service: `${name}-v2` },
    analysis: { minStepDuration: "60s" },
  });

const route = async (name: string): Promise<Json> => (await world.req("GET", `${ROUTES}/${name}`)).body;
const weights = (r: Json) =>
  Object.fromEntries(
    (r.spec.rules.find((x: Json) => x.name === "primary").backendRefs as Json[]).map((b) => [
      b.name,
      b.weight,
    ]),
  );
const phase = (name: string, want: string) =>
  until(`${name} ${want}`, async () => {
    const c = await world.canary(name);
    return c.status?.phase === want ? c : undefined;
  });

describe("a Canary on an HTTPRoute", () => {
  it("splits the route in basis points, then restores it exactly on abort", async () => {
    expect((await world.req("POST", ROUTES, original("shop"))).status).toBe(201);
    const c = await world.controller();
    await world.createCanary("shop", specFor("shop"));
    await phase("shop", "Progressing");
    await until("the split", async () => weights(await route("shop"))["shop-v2"] === 1000);
    const split = await route("shop");
    expect(split.spec.rules.map((r: Json) => r.name)).toEqual([
      "meshcanary-shop-stable",
      "meshcanary-shop-canary",
      "meshcanary-shop-pin-stable",
      "meshcanary-shop-pin-canary",
      "meshcanary-shop-pin-cookie-stable",
      "meshcanary-shop-pin-cookie-canary",
      "primary",
    ]);
    expect(weights(split)).toEqual({ "shop-v1": 9000, "shop-v2": 1000 });
    const ready = (await world.canary("shop")).status.conditions.find(
      (x: Json) => x.type === "VirtualServiceReady",
    );
    expect(ready?.status).toBe("True");

    await world.annotate("shop", "abort/1");
    await phase("shop", "Aborted");
    await until("the original route", async () => (await route("shop")).spec.rules.length === 1);
    const restored = await route("shop");
    expect(restored.spec).toEqual(original("shop").spec);
    expect(restored.metadata.annotations?.["meshcanary.io/state"]).toBeUndefined();
    await c.close();
  });

  it("deleted mid-rollout: the finalizer holds it until the route is restored", async () => {
    expect((await world.req("POST", ROUTES, original("cart"))).status).toBe(201);
    const c = await world.controller();
    await world.createCanary("cart", specFor("cart"));
    await phase("cart", "Progressing");
    await until("the split", async () => weights(await route("cart"))["cart-v2"] === 1000);
    await world.req("DELETE", `${CANARIES}/cart`);
    await until("cart gone", async () => (await world.req("GET", `${CANARIES}/cart`)).status === 404);
    const restored = await route("cart");
    expect(restored.spec).toEqual(original("cart").spec);
    expect(restored.metadata.annotations?.["meshcanary.io/state"]).toBeUndefined();
    await c.close();
  });

  it("a missing HTTPRoute is reported on the Canary, naming it", async () => {
    const c = await world.controller();
    await world.createCanary("ghost", specFor("ghost"));
    const c2 = await until("the condition", async () => {
      const x = await world.canary("ghost");
      return x.status?.conditions?.find(
        (k: Json) => k.type === "VirtualServiceReady" && k.status === "False",
      );
    });
    expect(c2.message).toContain(`HTTPRoute ${NS}/ghost`);
    await c.close();
  });
});
