import { describe, expect, it } from "vitest";
import { meshIntentFor } from "../../controller/app/mesh-intent.js";
import type { HttpRouteObject } from "../../controller/mesh/http-route-types.js";
import { planHttpRoute } from "../../controller/mesh/plan-http-route.js";
import { planRollout } from "../../controller/rollout/plan.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import { validateCanary } from "../../controller/spec/validate.js";
import { kustomizeBuild, readObjects } from "./kustomize.js";
import { publishedValidators } from "./published-schemas.js";
import type { KubeObject } from "./validators.js";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is navigated freely; a wrong path fails its expectation
type Yaml = any;
const validators = publishedValidators();
const validate = (obj: KubeObject) => validators.get(`${obj.apiVersion}/${obj.kind}`)!(obj);
const built = (dir: string) => {
  const b = kustomizeBuild(dir);
  expect(b.problems).toEqual([]);
  return b.objects as Yaml[];
};
const ofKind = (objects: Yaml[], kind: string) => objects.filter((o) => o.kind === kind);

describe("the published Gateway API and Istio schemas catch real mistakes", () => {
  const route = readObjects("istio/samples/gateway-api/http-route.yaml", [])[0] as Yaml;
  it.each([
    [
      "header match type typo",
      (r: Yaml) => (r.spec.rules[0].matches = [{ headers: [{ type: "Exakt", name: "a", value: "b" }] }]),
      /type/,
    ],
    [
      "backend weight above 1,000,000",
      (r: Yaml) => (r.spec.rules[0].backendRefs[0].weight = 1_000_001),
      /weight/,
    ],
    ["rule name not a DNS label", (r: Yaml) => (r.spec.rules[0].name = "Primary_Rule"), /name/],
    ["unknown rule field", (r: Yaml) => (r.spec.rules[0].mirror = {}), /mirror: unknown field/],
    [
      "more than 16 rules",
      (r: Yaml) => (r.spec.rules = Array.from({ length: 17 }, () => r.spec.rules[0])),
      /rules/,
    ],
  ])("HTTPRoute: %s", (_, mutate, error) => {
    const bad = structuredClone(route);
    mutate(bad);
    expect(validate(bad).join("\n")).toMatch(error);
  });

  it("TrafficExtension: a failStrategy typo and a WasmPlugin-style top-level url", () => {
    const te = ofKind(built("istio/ambient/traffic-extension"), "TrafficExtension")[0];
    const typo = structuredClone(te);
    typo.spec.wasm.failStrategy = "FAIL_OPEN_PLEASE";
    expect(validate(typo).join("\n")).toMatch(/failStrategy/);
    const flat = structuredClone(te);
    flat.spec.url = te.spec.wasm.url;
    expect(validate(flat)).toContain("spec.url: unknown field");
  });
});

describe("what the controller writes into an HTTPRoute", () => {
  const route = readObjects("istio/samples/gateway-api/http-route.yaml", [])[0] as unknown as HttpRouteObject;
  const canary = readObjects("istio/samples/gateway-api/canary.yaml", [])[0] as Yaml;

  it("the sample Canary is valid and names the sample route's rule and Services", () => {
    const checked = validateCanary(canary);
    expect(checked.ok ? [] : checked.errors).toEqual([]);
    expect(canary.spec.httpRoute).toEqual({ name: route.metadata?.name, rule: route.spec?.rules?.[0]?.name });
  });

  it("validates against Gateway API's HTTPRoute schema at every phase, pins and the rollout marker on", () => {
    const spec = withDefaults(canary.spec as CanarySpec);
    const id = "default/reviews";
    const plan = planRollout(spec);
    const marker = "0123456789abcdef0123456789abcdef";
    let current = route;
    for (const state of [
      { plan, marker, phase: "Progressing", step: 0, weightBp: 1, routingVersion: 1 },
      { plan, marker, phase: "Progressing", step: 3, weightBp: 5000, routingVersion: 4 },
      { plan, marker, phase: "Succeeded", step: 3, weightBp: 10000, routingVersion: 5 },
    ]) {
      const intent = meshIntentFor(id, spec, state as never)!;
      const planned = planHttpRoute(current, {
        ...intent,
        pins: { header: "x-meshcanary-pin", cookie: "meshcanary-pin" },
      });
      if ("error" in planned) throw new Error(planned.error);
      expect(validate(planned.route as unknown as KubeObject), state.phase).toEqual([]);
      if (state.phase === "Progressing") {
        const rule = planned.route.spec?.rules?.find((r) => r.name?.endsWith("-canary"));
        expect(rule?.filters).toEqual([
          { type: "RequestHeaderModifier", requestHeaderModifier: { remove: ["x-meshcanary-marker"] } },
        ]);
      }
      current = planned.route;
    }
    expect(current.spec?.rules).toEqual([
      {
        name: "primary",
        backendRefs: [{ group: "", kind: "Service", name: "reviews-v2", port: 9080, weight: 1 }],
      },
    ]);
  });
});

describe("the filter on waypoints and Gateway API gateways", () => {
  const sidecar = readObjects("istio/wasmplugin.yaml", [])[0] as Yaml;
  const waypointPlugin = ofKind(built("istio/ambient"), "WasmPlugin")[0];
  const extension = ofKind(built("istio/ambient/traffic-extension"), "TrafficExtension")[0];
  const gatewayPlugin = ofKind(built("istio/gateway-api"), "WasmPlugin")[0];
  const waypoint = ofKind(built("istio/samples/ambient"), "Gateway")[0];

  it("reaches the sample's waypoint by targetRefs, without selector or match (ignored on waypoints)", () => {
    expect(waypoint.spec.gatewayClassName).toBe("istio-waypoint");
    for (const p of [waypointPlugin, extension]) {
      expect(p.metadata.namespace).toBe(waypoint.metadata.namespace);
      expect(p.spec.targetRefs).toEqual([
        { group: "gateway.networking.k8s.io", kind: "Gateway", name: waypoint.metadata.name },
      ]);
      expect(p.spec.selector).toBeUndefined();
      expect(p.spec.match).toBeUndefined();
    }
    expect(gatewayPlugin.spec.targetRefs).toEqual([
      { group: "gateway.networking.k8s.io", kind: "Gateway", name: "ingress" },
    ]);
  });

  it("runs the sidecar's configuration, phase, failure policy and image everywhere", () => {
    const installed = ofKind(built("istio"), "WasmPlugin")[0];
    for (const p of [waypointPlugin, gatewayPlugin]) {
      expect(p.spec.pluginConfig).toEqual(sidecar.spec.pluginConfig);
      expect([p.spec.phase, p.spec.failStrategy]).toEqual([sidecar.spec.phase, sidecar.spec.failStrategy]);
      expect([p.spec.url, p.spec.sha256, p.spec.vmConfig]).toEqual([
        installed.spec.url,
        installed.spec.sha256,
        installed.spec.vmConfig,
      ]);
    }
    const w = extension.spec.wasm;
    expect(w.pluginConfig).toEqual(sidecar.spec.pluginConfig);
    expect([extension.spec.phase, w.failStrategy]).toEqual([sidecar.spec.phase, sidecar.spec.failStrategy]);
    expect([w.url, w.sha256, w.vmConfig]).toEqual([
      installed.spec.url,
      installed.spec.sha256,
      installed.spec.vmConfig,
    ]);
  });
});
