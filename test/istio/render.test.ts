/**
 * `meshcanary render` of the sample Canary against the sample VirtualService: the VirtualService it
 * prints must pass Istio's schema (the validators of @kubernetes-models/istio, as for istio/), at
 * the first step and mid-rollout, and must carry the step's split on the controller's route.
 */
import { describe, expect, it } from "vitest";
import { type Rendering, renderCanary } from "../../controller/cli/render-command.js";
import type { CanaryStatus } from "../../controller/spec/schema.js";
import { readObjects } from "./kustomize.js";
import { type KubeObject, validatorFor } from "./validators.js";

const canaryDoc = readObjects("istio/samples/canary.yaml", [])[0] as KubeObject;
const samples = [
  "istio/samples/virtual-service.yaml",
  "istio/samples/destination-rule.yaml",
  "istio/samples/reviews.yaml",
].flatMap((f) => readObjects(f, []));

interface Destination {
  destination: { host: string; subset?: string };
  weight?: number;
}
interface HttpRoute {
  name?: string;
  match?: unknown[];
  route?: Destination[];
}

/** A mid-rollout status as the controller writes it: step 3 of 4 (25%), in force for a while. */
const midRollout: CanaryStatus = {
  phase: "Progressing",
  step: 2,
  stepStartedAt: "2026-11-02T10:00:00.000Z",
  canaryWeight: 25,
  weightBp: 2500,
  routingVersion: 3,
  message: "analysing step 3/4",
};

function render(status?: CanaryStatus): Rendering {
  const doc = status === undefined ? canaryDoc : { ...canaryDoc, status };
  const result = renderCanary(doc, samples);
  if ("error" in result) throw new Error(result.error);
  return result;
}

/** Subset -> weight on every unmatched (catch-all) route, in route order. */
function catchAllSplits(vs: KubeObject): Record<string, number>[] {
  const http = ((vs.spec as { http?: HttpRoute[] }).http ?? []).filter((r) => !r.match?.length);
  return http.map((r) =>
    Object.fromEntries((r.route ?? []).map((d) => [d.destination.subset ?? "", d.weight ?? 100])),
  );
}

describe("meshcanary render of istio/samples", () => {
  const cases: [string, CanaryStatus | undefined, number][] = [
    ["the first step", undefined, 1],
    ["a mid-rollout status", midRollout, 25],
  ];

  it.each(cases)("renders %s as a VirtualService Istio's schema accepts", (_, status, canaryPct) => {
    const r = render(status);
    const vs = r.virtualService as unknown as KubeObject;
    expect(`${vs.apiVersion}/${vs.kind}`).toBe("networking.istio.io/v1/VirtualService");
    const validate = validatorFor(vs, new Map());
    expect(validate).toBeDefined();
    expect(validate!(vs)).toEqual([]);

    // The user's route is kept; the controller's route above it carries the step's split.
    const http = (vs.spec as { http: HttpRoute[] }).http;
    expect(http.map((h) => h.name)).toContain("primary");
    expect(http.length).toBeGreaterThan(1);
    expect(catchAllSplits(vs)[0]).toEqual({ v1: 100 - canaryPct, v2: canaryPct });
    expect(r.filterConfig.routes[0]?.variants.map((v) => v.weight)).toEqual([
      10000 - canaryPct * 100,
      canaryPct * 100,
    ]);
  });

  it("is checked by a validator that rejects a malformed route (control)", () => {
    const vs = structuredClone(render(midRollout).virtualService) as unknown as KubeObject;
    const first = (vs.spec as { http: HttpRoute[] }).http[0]?.route?.[0];
    if (first) first.weight = 12.5;
    expect(validatorFor(vs, new Map())!(vs)).toEqual([expect.stringContaining("weight must be integer")]);
  });

  it("reports the sample's VirtualService missing by the field that names it", () => {
    const others = samples.filter((o) => o.kind !== "VirtualService");
    const result = renderCanary(canaryDoc, others);
    expect(result).toEqual({ error: expect.stringContaining("spec.virtualService.name") });
  });
});
