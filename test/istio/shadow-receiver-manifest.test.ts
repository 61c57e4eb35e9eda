/**
 * The shadow sample ships its receiving-side filter (docs/strategies.md#shadow): the same image,
 * controller and token as the sidecar filter, `shadowReceiver: true` — exactly what the sandbox's
 * shadow receivers run in test/envoy/strategies.e2e — on the inbound side of the canary subset's pods.
 */
import { describe, expect, it } from "vitest";
import { receiverPluginConfig } from "../../sandbox/demo/shadow-receivers.js";
import { kustomizeBuild, readObjects } from "./kustomize.js";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is navigated freely; a wrong path fails its expectation
type Yaml = any;

describe("istio/samples/shadow", () => {
  const build = kustomizeBuild("istio/samples/shadow");
  const objects = build.objects as Yaml[];
  const receiver = objects.find((o) => o.kind === "WasmPlugin");
  const canary = objects.find((o) => o.kind === "Canary");
  const installed = (kustomizeBuild("istio").objects as Yaml[]).find((o) => o.kind === "WasmPlugin");
  const rule = readObjects("istio/samples/destination-rule.yaml", [])[0] as Yaml;

  it("builds (manifests.test.ts validates the file against Istio's WasmPlugin schema)", () => {
    expect(build.problems).toEqual([]);
    expect(receiver).toBeDefined();
  });

  it("runs the sidecar filter's image, token and configuration with shadowReceiver on", () => {
    expect([receiver.spec.url, receiver.spec.sha256, receiver.spec.vmConfig]).toEqual([
      installed.spec.url,
      installed.spec.sha256,
      installed.spec.vmConfig,
    ]);
    expect(receiver.spec.pluginConfig).toEqual(
      JSON.parse(receiverPluginConfig(JSON.stringify(installed.spec.pluginConfig))),
    );
  });

  it("attaches to the inbound side of exactly the canary subset's pods", () => {
    const subset = rule.spec.subsets.find((s: Yaml) => s.name === canary.spec.canary.subset);
    expect(receiver.spec.selector.matchLabels).toEqual({ app: "reviews", ...subset.labels });
    expect(receiver.spec.match).toEqual([{ mode: "SERVER" }]);
    expect(receiver.metadata.namespace).toBe(canary.metadata.namespace ?? "default");
  });
});
