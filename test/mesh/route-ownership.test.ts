// Route ownership by exact identity: canaries "shop" and "shop-web" split two routes of one
// VirtualService; neither takes the other's routes (the name "meshcanary-shop-" starts both), and
// abort/finish of one restores its user route while the other keeps running untouched.
import { describe, expect, it } from "vitest";
import { planVirtualService } from "../../controller/mesh/plan-virtual-service.js";
import type { MeshIntent, VirtualService } from "../../controller/mesh/types.js";

const vs: VirtualService = {
  apiVersion: "networking.istio.io/v1",
  kind: "VirtualService",
  metadata: { name: "frontdoor", namespace: "shop", resourceVersion: "1" },
  spec: {
    hosts: ["shop", "shop-web"],
    http: [
      {
        name: "web",
        match: [{ uri: { prefix: "/web" } }],
        route: [{ destination: { host: "shop-web", subset: "v1" } }],
      },
      { name: "api", route: [{ destination: { host: "shop", subset: "v1" } }] },
    ],
  },
};

function intent(name: "shop" | "shop-web", canaryBp: number, active = true): MeshIntent {
  return {
    canary: `shop/${name}`,
    host: name,
    routeName: name === "shop" ? "api" : "web",
    active,
    pins: { header: "x-pin", cookie: "pin" },
    weights: [
      { variant: "stable", subset: "v1", weightBp: 10000 - canaryBp },
      { variant: "canary", subset: "v2", weightBp: canaryBp },
    ],
  };
}

function plan(observed: VirtualService, i: MeshIntent): VirtualService {
  const r = planVirtualService(observed, i);
  if ("error" in r) throw new Error(`${r.condition}: ${r.error}`);
  return r.vs;
}

const names = (v: VirtualService) => (v.spec?.http ?? []).map((r) => r.name);

describe("route ownership by exact name", () => {
  it("shop and shop-web on one VirtualService: each plans, re-plans and aborts without touching the other", () => {
    let v = plan(vs, intent("shop-web", 1000));
    v = plan(v, intent("shop", 1000));
    const both = names(v);
    expect(both.filter((n) => n?.startsWith("meshcanary-shop-web-"))).toHaveLength(6);
    // Weight changes of either are no foreign edit of the other.
    v = plan(v, intent("shop", 3000));
    v = plan(v, intent("shop-web", 6000));
    v = plan(v, intent("shop", 6000));
    // Abort shop: its routes go, the api route is restored, shop-web's routes stay as they were.
    const webRoutes = (v.spec?.http ?? []).filter((r) => r.name?.startsWith("meshcanary-shop-web-"));
    v = plan(v, intent("shop", 0, false));
    expect((v.spec?.http ?? []).find((r) => r.name === "api")?.route).toEqual([
      { destination: { host: "shop", subset: "v1" } },
    ]);
    expect((v.spec?.http ?? []).filter((r) => r.name?.startsWith("meshcanary-shop-web-"))).toEqual(webRoutes);
    expect(
      names(v).filter((n) => n?.startsWith("meshcanary-shop-") && !n.startsWith("meshcanary-shop-web-")),
    ).toEqual([]);
    // Finish shop-web too: the VirtualService is the user's again, exactly.
    v = plan(v, intent("shop-web", 0, false));
    expect(v).toEqual(vs);
  });
});
