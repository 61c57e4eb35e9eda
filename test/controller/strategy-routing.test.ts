/**
 * What the strategies ask of the mesh, pure: a shadow step mirrors stable's route to the canary
 * subset and adds the receiving side's route to the Directive (every name a client may use, with
 * Envoy's "-shadow" suffix); nothing of it outside the step. Then the sandbox's two translations of
 * a VirtualService mirror: Envoy's RequestMirrorPolicy as istiod writes it, and the TS sidecar's.
 */
import { describe, expect, it } from "vitest";
import { routeTable } from "../../controller/app/directive.js";
import { meshIntentFor } from "../../controller/app/mesh-intent.js";
import { planRollout } from "../../controller/rollout/plan.js";
import { stateFromStatus } from "../../controller/rollout/status.js";
import type { RolloutState } from "../../controller/rollout/types.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import { routeAction } from "../../sandbox/envoy/istio-xds.js";
import { shadowAuthority } from "../../sandbox/sidecar/sidecar.js";
import { routeRequest } from "../../sandbox/sidecar/virtual-service-router.js";
import { healthySpec } from "./harness.js";

const spec = withDefaults({
  ...healthySpec([]),
  host: "reviews.shop.svc.cluster.local",
  strategy: { shadow: { duration: "1m", mirrorPercent: 25, canarySteps: [{ weight: 10 }] } },
} as never);
const plan = planRollout(spec);
const at = (phase: RolloutState["phase"], step: number, weightBp: number): RolloutState => ({
  ...stateFromStatus(plan, {}),
  phase,
  step,
  weightBp,
  routingVersion: 1,
});

describe("shadow routing", () => {
  it("mirrors 25% of stable's route to the canary subset only while the shadow step runs", () => {
    const shadowing = meshIntentFor("shop/reviews", spec, at("Progressing", 0, 0));
    expect(shadowing).toMatchObject({ active: true, mirror: { from: "stable", subset: "v2", bp: 2500 } });
    expect(meshIntentFor("shop/reviews", spec, at("Paused", 0, 0))?.mirror).toBeDefined();
    for (const state of [at("Progressing", 1, 1000), at("RollingBack", 0, 0), at("RolledBack", 0, 0)])
      expect(meshIntentFor("shop/reviews", spec, state)?.mirror, state.phase).toBeUndefined();
  });

  it("adds the receiving side's route, under every suffixed name, to the Directive while shadowing", () => {
    const table = routeTable([{ canaryId: "shop/reviews", spec, state: at("Progressing", 0, 0) }]);
    expect(table.map((r) => [r.host, r.aliases, r.variants])).toEqual([
      [
        "reviews.shop.svc.cluster.local",
        [],
        [
          { name: "stable", weightBp: 10000 },
          { name: "canary", weightBp: 0 },
        ],
      ],
      [
        "reviews.shop.svc.cluster.local-shadow",
        ["reviews-shadow", "reviews.shop-shadow", "reviews.shop.svc-shadow"],
        [{ name: "shadow", weightBp: 10000 }],
      ],
    ]);
    expect(table[1]!.canary).toBe("shop/reviews");
    const after = routeTable([{ canaryId: "shop/reviews", spec, state: at("Progressing", 1, 1000) }]);
    expect(after.map((r) => r.host)).toEqual(["reviews.shop.svc.cluster.local"]);
  });
});

describe("VirtualService mirror in the sandbox", () => {
  const route = {
    route: [{ destination: { host: "reviews", subset: "v1" } }],
    mirror: { host: "reviews", subset: "v2" },
    mirrorPercentage: { value: 12.5 },
  };
  const portOf = () => 9080;

  it("Envoy: one RequestMirrorPolicy to the subset's cluster, the share per million, trace_sampled false", () => {
    expect(routeAction("vs", route, "shop", portOf).request_mirror_policies).toEqual([
      {
        cluster: "outbound|9080|v2|reviews.shop.svc.cluster.local",
        runtime_fraction: { default_value: { numerator: 125_000, denominator: "MILLION" } },
        trace_sampled: false,
      },
    ]);
    const all = routeAction("vs", { ...route, mirrorPercentage: undefined }, "shop", portOf);
    expect(all.request_mirror_policies).toMatchObject([
      { runtime_fraction: { default_value: { numerator: 1_000_000 } } },
    ]);
    expect(routeAction("vs", { route: route.route }, "shop", portOf).request_mirror_policies).toBeUndefined();
    expect(() => routeAction("vs", { ...route, mirrorPercentage: { value: 101 } }, "shop", portOf)).toThrow(
      "vs.mirrorPercentage.value: must be 0..100, got 101",
    );
  });

  it("TS sidecar: mirrors a request when its draw falls under the percentage, with Envoy's authority", () => {
    const req = { authority: "reviews", path: "/", method: "GET", headers: new Map<string, string>() };
    const vs = [{ hosts: ["reviews"], http: [route] }];
    expect(routeRequest(vs, req, 0.5, 0.12)?.mirror).toEqual({
      host: "reviews",
      subset: "v2",
      port: undefined,
    });
    expect(routeRequest(vs, req, 0.5, 0.125)?.mirror).toBeUndefined();
    expect(routeRequest(vs, req, 0.5, 0.99)).toMatchObject({ subset: "v1" });
    expect(shadowAuthority("reviews")).toBe("reviews-shadow");
    expect(shadowAuthority("reviews.shop.svc.cluster.local:9080")).toBe(
      "reviews.shop.svc.cluster.local-shadow:9080",
    );
  });
});
