/**
 * Canary validation under hostile input: validateCanary never throws, names a field path for every
 * error, caps the error list, and stays bounded (the vitest timeout is the bound; no timing asserts).
 */
import { describe, expect, it } from "vitest";
import { MAX_DEPTH, MAX_ERRORS, validateCanary } from "../../controller/spec/validate.js";

// biome-ignore lint/suspicious/noExplicitAny: hostile input is untyped by nature
type Any = any;

function valid(): Any {
  return {
    apiVersion: "meshcanary.io/v1alpha1",
    kind: "Canary",
    metadata: { name: "reviews", namespace: "default" },
    spec: {
      host: "reviews",
      virtualService: { name: "reviews" },
      stable: { subset: "v1" },
      canary: { subset: "v2" },
      strategy: { canary: { steps: [{ weight: 10 }, { weight: 50, pause: { duration: "30s" } }] } },
      sticky: { header: "x-user" },
      analysis: { minStepDuration: "30s", minRequests: 50, checks: [{ failureRate: { max: 0.01 } }] },
    },
  };
}

function nested(depth: number): Any {
  const root: Any = {};
  let cur = root;
  for (let i = 0; i < depth; i++) {
    cur.a = {};
    cur = cur.a;
  }
  return root;
}

function errorsOf(obj: unknown) {
  let result: ReturnType<typeof validateCanary> | undefined;
  expect(() => {
    result = validateCanary(obj);
  }).not.toThrow();
  return result!.ok ? [] : result!.errors;
}

const MB = "x".repeat(1 << 20);

/** [what, mutate the valid Canary, path prefix every reported error must start with]. */
const hostile: Array<[string, (c: Any) => void, string]> = [
  ["deep nesting in spec", (c) => (c.spec.extra = nested(100_000)), "spec.extra.a"],
  ["deep nesting in status", (c) => (c.status = nested(100_000)), "status.a"],
  ["a cycle", (c) => (c.spec.self = c), "spec.self"],
  [
    "200k bad steps",
    (c) => (c.spec.strategy.canary.steps = Array(200_000).fill({ weight: "x" })),
    "spec.strategy.canary.steps[",
  ],
  [
    "1M-slot sparse array",
    (c) => (c.spec.strategy.canary.steps = new Array(1_000_000)),
    "spec.strategy.canary.steps[",
  ],
  [
    "NaN weight",
    (c) => (c.spec.strategy.canary.steps[0].weight = Number.NaN),
    "spec.strategy.canary.steps[0].weight",
  ],
  [
    "Infinity weight",
    (c) => (c.spec.strategy.canary.steps[0].weight = Number.POSITIVE_INFINITY),
    "spec.strategy.canary.steps[0].weight",
  ],
  [
    "weight as string",
    (c) => (c.spec.strategy.canary.steps[0].weight = "10"),
    "spec.strategy.canary.steps[0].weight",
  ],
  [
    "1 MB duration",
    (c) => (c.spec.analysis.minStepDuration = `${"9".repeat(1 << 20)}s`),
    "spec.analysis.minStepDuration",
  ],
  ["1 MB bad duration", (c) => (c.spec.analysis.minStepDuration = MB), "spec.analysis.minStepDuration"],
  ["1 MB metric name", (c) => (c.spec.metrics = [{ name: MB, header: "x-tokens" }]), "spec.metrics[0].name"],
  [
    "__proto__ key",
    (c) => (c.spec = JSON.parse(`{"__proto__":{"polluted":1},${JSON.stringify(c.spec).slice(1)}`)),
    "spec.__proto__",
  ],
  ["constructor key", (c) => (c.spec.constructor = { prototype: { polluted: 1 } }), "spec.constructor"],
  [
    "prototype key in a step",
    (c) => (c.spec.strategy.canary.steps[0].prototype = {}),
    "spec.strategy.canary.steps[0].prototype",
  ],
  [
    "100k checks",
    (c) => (c.spec.analysis.checks = Array(100_000).fill({ failureRate: { max: 1 } })),
    "spec.analysis.checks[",
  ],
  ["spec is an array", (c) => (c.spec = [1, 2, 3]), "spec"],
  ["spec is null", (c) => (c.spec = null), "spec"],
];

describe("validateCanary under hostile input", () => {
  it.each(hostile)("%s: errors with the field path, capped, no throw", (_what, mutate, prefix) => {
    const c = valid();
    mutate(c);
    const errors = errorsOf(c);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThanOrEqual(MAX_ERRORS);
    for (const e of errors) {
      expect(e.path.startsWith(prefix), `${e.path} under ${prefix}`).toBe(true);
      expect(e.message.length).toBeLessThan(1000);
    }
    expect(({} as Any).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("checks nesting just within the depth limit normally (no depth error)", () => {
    const c = valid();
    c.status = nested(MAX_DEPTH - 2);
    const errors = errorsOf(c);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((e) => e.message.includes("nesting"))).toEqual([]);
  });

  it.each([null, undefined, 0, "Canary", [], true, Symbol("x"), () => 1])(
    "rejects the non-object %s at (root)",
    (v) => {
      const errors = errorsOf(v);
      expect(errors.map((e) => e.path)).toEqual(["(root)"]);
    },
  );
});

/** Deterministic PRNG (mulberry32) so a failure reproduces from the printed seed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD: unknown[] = [
  null,
  undefined,
  Number.NaN,
  Number.NEGATIVE_INFINITY,
  -1,
  1e308,
  0.001,
  "",
  "x".repeat(10_000),
  "🙂",
  [],
  {},
  [[[[]]]],
  { __proto__: null },
  true,
  "30s",
  "-5s",
  "1e999s",
];

/** Every (path, parent) in the object tree, so a mutation can hit any field. */
function slots(obj: Any, out: Array<[Any, string]> = []): Array<[Any, string]> {
  if (typeof obj !== "object" || obj === null) return out;
  for (const k of Object.keys(obj)) {
    out.push([obj, k]);
    slots(obj[k], out);
  }
  return out;
}

describe("validateCanary on random mutations of a valid Canary", () => {
  it("never throws, and every error names a path inside the object", () => {
    const seed = 20240601;
    const rand = rng(seed);
    let rejected = 0;
    for (let round = 0; round < 2000; round++) {
      const c = valid();
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) {
        const all = slots(c);
        const [parent, key] = all[Math.floor(rand() * all.length)]!;
        const r = rand();
        if (r < 0.6) parent[key] = structuredClone(WEIRD[Math.floor(rand() * WEIRD.length)]);
        else if (r < 0.8) delete parent[key];
        else parent[`${key}_extra`] = structuredClone(WEIRD[Math.floor(rand() * WEIRD.length)]);
      }
      const result = validateCanary(c);
      if (result.ok) continue;
      rejected++;
      expect(result.errors.length, `seed ${seed} round ${round}`).toBeLessThanOrEqual(MAX_ERRORS);
      for (const err of result.errors) {
        expect(err.path, `seed ${seed} round ${round}`).toMatch(
          /^(\(root\)|apiVersion|kind|metadata|spec|status)/,
        );
        expect(err.message.length).toBeGreaterThan(0);
      }
    }
    // Most mutations break something; if none were rejected the fuzzer is not reaching the validator.
    expect(rejected).toBeGreaterThan(1000);
  }, 20_000);
});
