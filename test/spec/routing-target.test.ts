import { describe, expect, it } from "vitest";
import { meshIntentFor } from "../../controller/app/mesh-intent.js";
import { planRollout } from "../../controller/rollout/plan.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import { backendOf, routingTarget } from "../../controller/spec/routing-target.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import { validateCanary } from "../../controller/spec/validate.js";
import { minimal } from "../fixtures/spec/rejections.js";

const errorsOf = (spec: Record<string, unknown>) => {
  const result = validateCanary(minimal(spec));
  return result.ok ? [] : result.errors;
};

const gatewayApi = {
  virtualService: undefined,
  httpRoute: { name: "reviews", rule: "primary" },
  stable: { service: "reviews-v1" },
  canary: { service: "reviews-v2" },
};

describe("routing target and backends", () => {
  it("accepts a VirtualService with subsets and an HTTPRoute with Services", () => {
    expect(errorsOf({})).toEqual([]);
    expect(errorsOf(gatewayApi)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, Array<{ path: string; message: string }>]>([
    [
      "neither routing object",
      { virtualService: undefined },
      [
        {
          path: "spec.virtualService",
          message:
            "is required unless httpRoute is set: a Canary needs a VirtualService or an HTTPRoute to split",
        },
      ],
    ],
    [
      "both routing objects",
      { httpRoute: { name: "reviews" } },
      [
        {
          path: "spec.httpRoute",
          message: "must not be set together with virtualService: a Canary drives one routing object",
        },
      ],
    ],
    [
      "Services with a VirtualService",
      { stable: { service: "reviews-v1" }, canary: { subset: "v2" } },
      [
        {
          path: "spec.stable.service",
          message:
            'must not be set: spec.virtualService splits one host by DestinationRule subsets; set stable.subset, got "reviews-v1"',
        },
      ],
    ],
    [
      "subsets with an HTTPRoute",
      { ...gatewayApi, canary: { subset: "v2" } },
      [
        {
          path: "spec.canary.subset",
          message:
            'must not be set: spec.httpRoute splits between backendRefs, which name Services, not subsets; set canary.service, got "v2"',
        },
      ],
    ],
    [
      "a version with neither",
      { ...gatewayApi, stable: {} },
      [
        {
          path: "spec.stable.service",
          message: "is required: spec.httpRoute splits between backendRefs, which name Services, not subsets",
        },
      ],
    ],
    [
      "the same Service twice",
      { ...gatewayApi, canary: { service: "reviews-v1" } },
      [
        {
          path: "spec.canary.service",
          message: 'must differ from stable.service, got "reviews-v1" for both',
        },
      ],
    ],
    [
      "the same subset twice",
      { canary: { subset: "v1" } },
      [{ path: "spec.canary.subset", message: 'must differ from stable.subset, got "v1" for both' }],
    ],
    [
      "a shadow release through an HTTPRoute (mirroring is written only into VirtualServices)",
      { ...gatewayApi, strategy: { shadow: { duration: "5m" } } },
      [
        {
          path: "spec.strategy.shadow",
          message:
            "is not supported with spec.httpRoute yet: meshcanary mirrors through a VirtualService's mirror; use spec.virtualService for a shadow release",
        },
      ],
    ],
  ])("refuses %s, saying why", (_, spec, errors) => {
    expect(errorsOf(spec)).toEqual(errors);
  });

  it("a Service name must be a DNS label (schema)", () => {
    expect(errorsOf({ ...gatewayApi, canary: { service: "Reviews_V2" } })).toEqual([
      { path: "spec.canary.service", message: expect.stringContaining('got "Reviews_V2"') },
    ]);
  });

  it("an HTTPRoute Canary's mesh intent names the backend Services and the rule", () => {
    const spec = withDefaults((minimal(gatewayApi) as { spec: CanarySpec }).spec);
    expect(routingTarget(spec)).toEqual({ kind: "HTTPRoute", name: "reviews", route: "primary" });
    expect(backendOf(spec.canary)).toBe("reviews-v2");
    const plan = planRollout(spec);
    const state = { plan, phase: "Progressing", step: 0, weightBp: 500, routingVersion: 1 } as const;
    const intent = meshIntentFor("default/reviews", spec, state as never);
    expect(intent).toMatchObject({
      routeName: "primary",
      active: true,
      weights: [
        { variant: "stable", subset: "reviews-v1", weightBp: 9500 },
        { variant: "canary", subset: "reviews-v2", weightBp: 500 },
      ],
    });
    const promoted = meshIntentFor("default/reviews", spec, {
      ...state,
      phase: "Succeeded",
      weightBp: 10000,
    } as never);
    expect(promoted).toMatchObject({ active: false, finalSubset: "reviews-v2" });
  });
});
