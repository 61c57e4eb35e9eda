import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planVirtualService } from "../../controller/mesh/plan-virtual-service.js";
import type { MeshIntent, VirtualService } from "../../controller/mesh/types.js";
import { STATE_ANNOTATION } from "../../controller/mesh/types.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/mesh");
const load = <T>(dir: string, file: string): T => parse(readFileSync(join(dir, file), "utf8")) as T;
const cases = readdirSync(FIXTURES).sort();

describe("planVirtualService fixtures", () => {
  it("has every case the design asks for", () => {
    for (const c of [
      "single-route",
      "named-target",
      "timeout-retries-copied",
      "already-planned",
      "weight-change",
      "deactivate-restore",
      "final-subset",
      "missing-route",
      "missing-subset",
      "foreign-edit",
      "pins",
    ]) {
      expect(cases).toContain(c);
    }
  });

  it.each(cases)("%s", (name) => {
    const dir = join(FIXTURES, name);
    const before = load<VirtualService>(dir, "before.yaml");
    const intent = load<MeshIntent>(dir, "intent.yaml");
    const options = existsSync(join(dir, "options.yaml"))
      ? load<{ subsets?: string[] }>(dir, "options.yaml")
      : {};
    const snapshot = structuredClone(before);
    const result = planVirtualService(before, intent, options);
    expect(before).toEqual(snapshot);

    if (existsSync(join(dir, "error.yaml"))) {
      const want = load<{ condition: string; contains: string }>(dir, "error.yaml");
      if (!("error" in result)) throw new Error(`expected an error, got a plan`);
      expect(result.condition).toBe(want.condition);
      expect(result.error).toContain(want.contains);
      return;
    }
    if ("error" in result) throw new Error(`unexpected error: ${result.error}`);
    const after = load<VirtualService>(dir, "after.yaml");
    expect(result.vs).toEqual(after);
    expect(result.changed).toBe(name !== "already-planned");

    const again = planVirtualService(result.vs, intent, options);
    if ("error" in again) throw new Error(`re-plan failed: ${again.error}`);
    expect(again.changed).toBe(false);
    expect(again.vs).toEqual(result.vs);
  });
});

describe("planVirtualService rules", () => {
  const dir = join(FIXTURES, "single-route");
  const before = load<VirtualService>(dir, "before.yaml");
  const intent = load<MeshIntent>(dir, "intent.yaml");
  const planned = load<VirtualService>(dir, "after.yaml");

  it("round-trips: activate then deactivate restores the original exactly", () => {
    const restored = planVirtualService(planned, { ...intent, active: false });
    if ("error" in restored) throw new Error(restored.error);
    expect(restored.vs).toEqual(before);
  });

  it("an inactive canary with no state leaves the VirtualService alone", () => {
    const result = planVirtualService(before, { ...intent, active: false, finalSubset: "v2" });
    if ("error" in result) throw new Error(result.error);
    expect(result.changed).toBe(false);
    expect(result.vs).toEqual(before);
  });

  it("routes with our prefix but no state are someone else's", () => {
    const noState = structuredClone(planned);
    delete noState.metadata!.annotations![STATE_ANNOTATION];
    const result = planVirtualService(noState, intent);
    expect(result).toMatchObject({ condition: "ForeignEdit" });
    expect("error" in result && result.error).toContain("no shop/reviews-v2 state annotation");
  });

  it("a foreign edit of the target route's destinations blocks deactivation", () => {
    const edited = structuredClone(planned);
    const target = edited.spec!.http!.at(-1)!;
    target.route![0].weight = 80;
    target.route![1].weight = 20;
    const result = planVirtualService(edited, { ...intent, active: false });
    expect(result).toMatchObject({ condition: "ForeignEdit" });
    expect("error" in result && result.error).toContain("destinations of unnamed route");
  });

  it("keeps a route someone inserted above ours where it is", () => {
    const withAbove = structuredClone(planned);
    const theirs = {
      name: "hotfix",
      match: [{ uri: { prefix: "/x" } }],
      route: [{ destination: { host: "other" } }],
    };
    withAbove.spec!.http!.unshift(theirs);
    const result = planVirtualService(withAbove, {
      ...intent,
      weights: intent.weights.map((w) => ({ ...w, weightBp: 5000 })),
    });
    if ("error" in result) throw new Error(result.error);
    expect(result.changed).toBe(true);
    expect(result.vs.spec!.http!.map((r) => r.name)).toEqual([
      "hotfix",
      "meshcanary-reviews-v2-stable",
      "meshcanary-reviews-v2-canary",
      undefined,
    ]);
  });

  it("two canaries on one VirtualService keep separate state and routes", () => {
    const other: MeshIntent = { ...intent, canary: "shop/reviews-v3" };
    const both = planVirtualService(planned, other);
    if ("error" in both) throw new Error(both.error);
    const names = both.vs.spec!.http!.map((r) => r.name);
    expect(names.filter((n) => n?.startsWith("meshcanary-reviews-v3-"))).toHaveLength(2);
    expect(names.filter((n) => n?.startsWith("meshcanary-reviews-v2-"))).toHaveLength(2);
    const state = JSON.parse(both.vs.metadata!.annotations![STATE_ANNOTATION]);
    expect(Object.keys(state).sort()).toEqual(["shop/reviews-v2", "shop/reviews-v3"]);
  });

  it.each([
    [{ canary: "reviews-v2" }, "InvalidIntent", 'canary: expected "<namespace>/<name>", got "reviews-v2"'],
    [
      { weights: [{ variant: "stable", subset: "v1", weightBp: 9000 }] },
      "InvalidIntent",
      "weights: weightBp must sum to 10000, got 9000",
    ],
    [
      { weights: [{ variant: "Stable", subset: "v1", weightBp: 10000 }] },
      "InvalidIntent",
      "weights[0].variant: must match",
    ],
    [
      { weights: [{ variant: "stable", subset: "v1", weightBp: 10000.5 }] },
      "InvalidIntent",
      "weights[0].weightBp: must be an integer 0..10000, got 10000.5",
    ],
    [{ host: "ratings" }, "TargetRouteMissing", "no destination for host ratings"],
    [
      { variantHeader: "X-Variant" },
      "InvalidIntent",
      'variantHeader: not a lower-case header name, got "X-Variant"',
    ],
  ])("rejects %j as %s", (patch, condition, message) => {
    const result = planVirtualService(before, { ...intent, ...patch } as MeshIntent);
    expect(result).toMatchObject({ condition });
    expect("error" in result && result.error).toContain(message);
  });

  it("refuses a target route that also sends traffic to another host", () => {
    const split = structuredClone(before);
    split.spec!.http![0].route!.push({ destination: { host: "legacy" }, weight: 50 });
    split.spec!.http![0].route![0].weight = 50;
    const result = planVirtualService(split, intent);
    expect(result).toMatchObject({ condition: "TargetRouteMissing" });
    expect("error" in result && result.error).toContain("also routes to other hosts");
  });

  it("a malformed state annotation is reported, not dropped", () => {
    const broken = structuredClone(planned);
    broken.metadata!.annotations![STATE_ANNOTATION] = "{nope";
    const result = planVirtualService(broken, intent);
    expect("error" in result && result.error).toContain(
      `metadata.annotations["${STATE_ANNOTATION}"]: not valid JSON`,
    );
  });
});
