/**
 * Resuming never moves a weight backwards: the pure decision (status + weight found in force →
 * resume point), reading the weight off a VirtualService the planner rendered, and the adopted state.
 */
import { describe, expect, it } from "vitest";
import { meshIntentFor } from "../../controller/app/mesh-intent.js";
import {
  adoptMeshPoint,
  aheadCandidates,
  resumePoint,
  weightInForce,
} from "../../controller/app/resume-point.js";
import type { HttpRouteObject } from "../../controller/mesh/http-route-types.js";
import { planHttpRoute } from "../../controller/mesh/plan-http-route.js";
import { planVirtualService } from "../../controller/mesh/plan-virtual-service.js";
import type { VirtualService } from "../../controller/mesh/types.js";
import { advance } from "../../controller/rollout/advance.js";
import { planRollout } from "../../controller/rollout/plan.js";
import { stateFromStatus } from "../../controller/rollout/status.js";
import type { Phase, RolloutState } from "../../controller/rollout/types.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import { healthySpec } from "./harness.js";

const spec = withDefaults(healthySpec([10, 30, 60]) as CanarySpec);
const plan = planRollout(spec);
const T = Date.UTC(2026, 11, 7, 10, 0, 0);

function status(phase: Phase, step: number, weightBp: number, extra: Partial<RolloutState> = {}) {
  return {
    ...stateFromStatus(plan, { revision: "r1", routingVersion: 4 }),
    phase,
    step,
    weightBp,
    stepStartedAt: T - 60_000,
    ...extra,
  };
}

describe("resumePoint", () => {
  // [case, status, revision now, weight in force (bp), expected point]
  const table: Array<[string, RolloutState, string, number | undefined, object]> = [
    ["mesh one step ahead", status("Progressing", 1, 3000), "r1", 6000, { kind: "mesh", step: 2 }],
    ["mesh at status's step", status("Progressing", 1, 3000), "r1", 3000, { kind: "status" }],
    ["mesh behind status (a write failed)", status("Progressing", 1, 3000), "r1", 1000, { kind: "status" }],
    [
      "mesh unknown (foreign edit, other route)",
      status("Progressing", 1, 3000),
      "r1",
      undefined,
      { kind: "status" },
    ],
    [
      "mesh promoting",
      status("Progressing", 2, 6000),
      "r1",
      10000,
      { kind: "mesh", phase: "Promoting", step: 2 },
    ],
    [
      "approved from a pause",
      status("Paused", 1, 3000, { pausedBy: "approval" }),
      "r1",
      6000,
      { kind: "mesh", phase: "Progressing", step: 2 },
    ],
    ["status never left Initializing", status("Initializing", 0, 0), "r1", 1000, { kind: "mesh", step: 0 }],
    [
      "resumed from a 0% deadline pause",
      status("Paused", 1, 0, { pausedBy: "manual" }),
      "r1",
      3000,
      { kind: "mesh", step: 1 },
    ],
    ["a new revision restarts instead", status("Progressing", 1, 3000), "r2", 6000, { kind: "status" }],
    [
      "status without a revision",
      status("Progressing", 1, 3000, { revision: undefined }),
      "r1",
      6000,
      { kind: "status" },
    ],
    ["rolling back: 0% stays", status("RollingBack", 1, 0), "r1", 3000, { kind: "status" }],
    ["rolled back: stays", status("RolledBack", 1, 0), "r1", 6000, { kind: "status" }],
    ["promoting: stays", status("Promoting", 2, 10000), "r1", 10000, { kind: "status" }],
    ["weight that is no step", status("Progressing", 0, 1000), "r1", 4000, { kind: "status" }],
    ["an earlier step's weight", status("Progressing", 2, 6000), "r1", 3000, { kind: "status" }],
  ];
  it.each(table)("%s", (_, state, revision, inForce, expected) => {
    expect(resumePoint(state, revision, inForce)).toMatchObject(expected);
  });

  it("a report plan (abTest) never takes 100% for a promotion", () => {
    const ab = planRollout(
      withDefaults({
        ...healthySpec([]),
        strategy: { abTest: { weight: 20, duration: "1m" } },
      } as CanarySpec),
    );
    const s = { ...stateFromStatus(ab, { revision: "r1" }), phase: "Progressing" as const, weightBp: 2000 };
    expect(aheadCandidates(s)).toEqual([]);
    expect(resumePoint(s, "r1", 10000)).toMatchObject({ kind: "status" });
  });
});

describe("aheadCandidates", () => {
  it.each<[string, RolloutState, number[]]>([
    ["later steps, then the promotion", status("Progressing", 0, 1000), [3000, 6000, 10000]],
    ["from a 0% pause: the step itself too", status("Paused", 1, 0), [3000, 6000, 10000]],
    ["last step", status("Progressing", 2, 6000), [10000]],
    ["terminal: nothing to read", status("Succeeded", 2, 10000), []],
  ])("%s", (_, state, expected) => {
    expect(aheadCandidates(state)).toEqual(expected);
  });
});

describe("weightInForce on a VirtualService the planner wrote", () => {
  const original: VirtualService = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "reviews", namespace: "default", resourceVersion: "7" },
    spec: {
      hosts: ["reviews"],
      http: [{ name: "primary", route: [{ destination: { host: "reviews", subset: "v1" } }] }],
    },
  };
  const intentAt = (weightBp: number) =>
    meshIntentFor("default/c", spec, { ...status("Progressing", 0, weightBp) })!;
  const written = (weightBp: number): VirtualService => {
    const plan = planVirtualService(original, intentAt(weightBp));
    if ("error" in plan) throw new Error(plan.error);
    return plan.vs;
  };
  const candidates = [3000, 6000, 10000].map((weightBp) => ({ weightBp, intent: intentAt(weightBp) }));

  it.each<[string, VirtualService, number | undefined]>([
    ["at 60%", written(6000), 6000],
    ["at 30%", written(3000), 3000],
    ["at 10% (no candidate)", written(1000), undefined],
    ["never touched", original, undefined],
  ])("%s", (_, vs, expected) => {
    expect(weightInForce({ kind: "VirtualService", vs }, candidates)).toBe(expected);
  });

  it("a hand-edited weight is not taken for a step", () => {
    const vs = structuredClone(written(6000));
    const target = vs.spec!.http!.find((r) => r.name === "primary")!;
    target.route = target.route!.map((d) => ({ ...d, weight: d.destination.subset === "v2" ? 61 : 39 }));
    expect(weightInForce({ kind: "VirtualService", vs }, candidates)).toBeUndefined();
  });
});

describe("weightInForce on an HTTPRoute the planner wrote", () => {
  const gatewaySpec = withDefaults({
    ...healthySpec([10, 30, 60]),
    virtualService: undefined,
    httpRoute: { name: "reviews" },
    stable: { service: "reviews-v1" },
    canary: { service: "reviews-v2" },
  } as unknown as CanarySpec);
  const original: HttpRouteObject = {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "reviews", namespace: "default", resourceVersion: "7" },
    spec: {
      parentRefs: [{ group: "", kind: "Service", name: "reviews", port: 9080 }],
      rules: [{ backendRefs: [{ group: "", kind: "Service", name: "reviews-v1", port: 9080, weight: 1 }] }],
    },
  };
  const intentAt = (weightBp: number) =>
    meshIntentFor("default/c", gatewaySpec, { ...status("Progressing", 0, weightBp) })!;
  const written = (weightBp: number): HttpRouteObject => {
    const planned = planHttpRoute(original, intentAt(weightBp));
    if ("error" in planned) throw new Error(planned.error);
    return planned.route;
  };
  const candidates = [3000, 6000, 10000].map((weightBp) => ({ weightBp, intent: intentAt(weightBp) }));

  it.each<[string, HttpRouteObject, number | undefined]>([
    ["at 60%", written(6000), 6000],
    ["at 10% (no candidate)", written(1000), undefined],
    ["never touched", original, undefined],
  ])("%s", (_, route, expected) => {
    expect(weightInForce({ kind: "HTTPRoute", route }, candidates)).toBe(expected);
  });
});

describe("adoptMeshPoint", () => {
  it("takes the step without announcing it again; its clock starts when the new routing version is confirmed", () => {
    const from = status("Progressing", 1, 3000, { analysisState: { e: 3 } });
    const point = resumePoint(from, "r1", 6000);
    if (point.kind !== "mesh") throw new Error("expected the mesh's step");
    const adopted = adoptMeshPoint(from, point, T);
    expect(adopted).toMatchObject({ phase: "Progressing", step: 2, weightBp: 6000, routingVersion: 5 });
    expect(adopted.stepStartedAt).toBeUndefined();
    expect(adopted.analysisState).toBeUndefined();
    expect(adopted.history.at(-1)).toMatchObject({ from: "Progressing", to: "Progressing", step: 2 });

    const waiting = advance(adopted, { revision: "r1", weightsApplied: { version: 4 } }, T + 100);
    expect(waiting.actions.filter((a) => a.kind === "event" || a.kind === "webhook")).toEqual([]);
    expect(waiting.actions.filter((a) => a.kind === "setWeights")).toEqual([]);
    const started = advance(waiting.state, { revision: "r1", weightsApplied: { version: 5 } }, T + 200);
    expect(started.state.stepStartedAt).toBe(T + 200);
    expect(started.actions.map((a) => a.kind)).toContain("resetAnalysis");
    expect(started.actions.filter((a) => a.kind === "event" || a.kind === "webhook")).toEqual([]);
  });

  it("adopting the promotion goes on to Succeeded once the mesh confirms it", () => {
    const from = status("Progressing", 2, 6000);
    const point = resumePoint(from, "r1", 10000);
    if (point.kind !== "mesh") throw new Error("expected the promotion");
    const adopted = adoptMeshPoint(from, point, T);
    const next = advance(
      adopted,
      { revision: "r1", weightsApplied: { version: adopted.routingVersion } },
      T + 1,
    );
    expect(next.state.phase).toBe("Succeeded");
    expect(next.actions.filter((a) => a.kind === "event").map((a) => "reason" in a && a.reason)).toEqual([
      "Succeeded",
    ]);
  });
});
