// The rollout marker from state to VirtualService and Directive: taken on the first tick, kept
// while the rollout runs, replaced when a rollout starts again (new revision, retry), and matched by
// every variant route (test/fixtures/mesh/variant-marker shows the rendered routes in full).
import { describe, expect, it } from "vitest";
import { buildDirective, routeTable } from "../../controller/app/directive.js";
import { meshIntentFor } from "../../controller/app/mesh-intent.js";
import { planVirtualService } from "../../controller/mesh/plan-virtual-service.js";
import type { MeshIntent, VirtualService } from "../../controller/mesh/types.js";
import { MARKER_HEADER, newVariantMarker, variantHeaderMatch } from "../../controller/mesh/variant-match.js";
import { advance } from "../../controller/rollout/advance.js";
import { planRollout } from "../../controller/rollout/plan.js";
import { stateFromStatus } from "../../controller/rollout/status.js";
import type { RolloutState } from "../../controller/rollout/types.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import { spec, T0 } from "../rollout/sim.js";

const canarySpec = spec({ canary: { steps: [{ weight: 10 }, { weight: 50 }] } });
const plan = planRollout(canarySpec);
const M1 = "11111111111111111111111111111111";
const M2 = "22222222222222222222222222222222";

describe("newVariantMarker", () => {
  it("is 128 random bits in hex, different every time", () => {
    const seen = new Set(Array.from({ length: 1000 }, newVariantMarker));
    expect(seen.size).toBe(1000);
    for (const m of seen) expect(m).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("the marker in the rollout state", () => {
  const tick = (s: RolloutState, obs: Parameters<typeof advance>[1], at = T0) => advance(s, obs, at).state;

  it("is taken on the first tick and kept while the rollout runs", () => {
    let s = tick(stateFromStatus(plan, undefined), { revision: "r1", freshMarker: M1 });
    expect(s.marker).toBe(M1);
    s = tick(s, { revision: "r1", meshReady: true, freshMarker: M2 });
    s = tick(
      s,
      { revision: "r1", weightsApplied: { version: s.routingVersion }, freshMarker: M2 },
      T0 + 1000,
    );
    expect(s.phase).toBe("Progressing");
    expect(s.marker).toBe(M1);
  });

  it("is replaced when a new revision restarts the rollout", () => {
    const running: RolloutState = {
      ...stateFromStatus(plan, { revision: "r1" }),
      phase: "Progressing",
      weightBp: 1000,
      routingVersion: 1,
      marker: M1,
    };
    expect(tick(running, { revision: "r2", freshMarker: M2 }).marker).toBe(M2);
    expect(tick(running, { revision: "r1", freshMarker: M2 }).marker).toBe(M1);
  });

  it("is replaced when an operator retries", () => {
    const rolledBack: RolloutState = {
      ...stateFromStatus(plan, { revision: "r1" }),
      phase: "RolledBack",
      marker: M1,
    };
    const s = tick(rolledBack, { revision: "r1", command: "retry", freshMarker: M2 });
    expect(s.phase).toBe("Initializing");
    expect(s.marker).toBe(M2);
  });

  it("reaches the mesh intent and the Directive route", () => {
    const state: RolloutState = {
      ...stateFromStatus(plan, { revision: "r1" }),
      phase: "Progressing",
      marker: M1,
    };
    const defaults = withDefaults(canarySpec);
    expect(meshIntentFor("shop/reviews", defaults, state)?.marker).toBe(M1);
    const directive = buildDirective(1, routeTable([{ canaryId: "shop/reviews", spec: defaults, state }]));
    expect(directive.routes[0]?.marker).toBe(M1);
  });
});

describe("variant routes", () => {
  const vs: VirtualService = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "reviews", namespace: "shop" },
    spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews", subset: "v1" } }] }] },
  };
  const intent = (marker?: string): MeshIntent => ({
    canary: "shop/reviews",
    host: "reviews",
    active: true,
    ...(marker !== undefined ? { marker } : {}),
    weights: [
      { variant: "stable", subset: "v1", weightBp: 10000 },
      { variant: "canary", subset: "v2", weightBp: 0 },
    ],
  });

  it("match the variant and the marker, so a rotated marker rewrites them", () => {
    const first = planVirtualService(vs, intent(M1));
    if ("error" in first) throw new Error(first.error);
    const canary = first.vs.spec?.http?.find((r) => r.name === "meshcanary-reviews-canary");
    expect(canary?.match?.[0]?.headers).toEqual({
      "x-meshcanary-variant": { exact: "canary" },
      [MARKER_HEADER]: { exact: M1 },
    });
    const rotated = planVirtualService(first.vs, intent(M2));
    if ("error" in rotated) throw new Error(rotated.error);
    expect(rotated.changed).toBe(true);
    const json = JSON.stringify(rotated.vs.spec);
    expect(json).toContain(M2);
    expect(json).not.toContain(M1);
  });

  it("refuse a marker that is not 32 hex digits, naming it", () => {
    const r = planVirtualService(vs, intent("canary"));
    expect(r).toEqual({
      error: 'marker: must be 32 lower-case hex digits, got "canary"',
      condition: "InvalidIntent",
    });
  });

  it("variantHeaderMatch is the one list of conditions (for HTTPRoute planning too)", () => {
    expect(variantHeaderMatch("x-meshcanary-variant", "canary", M1)).toEqual([
      { name: "x-meshcanary-variant", value: "canary" },
      { name: MARKER_HEADER, value: M1 },
    ]);
    expect(variantHeaderMatch("x-meshcanary-variant", "canary")).toEqual([
      { name: "x-meshcanary-variant", value: "canary" },
    ]);
  });
});
