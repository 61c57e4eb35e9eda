import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { withDefaults } from "../../controller/spec/defaults.js";
import { dottedPath, validateCanary } from "../../controller/spec/validate.js";
import { minimal, SPEC_REJECTIONS } from "../fixtures/spec/rejections.js";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

function errorsOf(obj: unknown) {
  const result = validateCanary(obj);
  return result.ok ? [] : result.errors;
}

describe("validateCanary", () => {
  it.each(["canary", "blue-green/canary", "ab-test/canary", "shadow/canary"])(
    "accepts the sample %s",
    (name) => {
      const result = validateCanary(parse(read(`istio/samples/${name}.yaml`)));
      expect(result.ok ? [] : result.errors).toEqual([]);
    },
  );

  it("names the field and value of a bad strategy setting", () => {
    const errors = errorsOf(
      minimal({
        strategy: {
          shadow: { duration: "1m", mirrorPercent: 12.345, canarySteps: [{ weight: 50 }, { weight: 10 }] },
        },
      }),
    );
    expect(errors).toEqual([
      {
        path: "spec.strategy.shadow.mirrorPercent",
        message: "must have at most 2 decimals (basis points), got 12.345",
      },
      {
        path: "spec.strategy.shadow.canarySteps[1].weight",
        message: "must not be below the previous step's 50, got 10",
      },
    ]);
  });

  it.each(["invalid-steps", "invalid-structure"])("reports the expected errors for fixture %s", (name) => {
    const errors = errorsOf(parse(read(`test/fixtures/spec/${name}.yaml`)));
    expect(errors).toEqual(JSON.parse(read(`test/fixtures/spec/${name}.errors.json`)));
  });

  it("reports schema and semantic errors together, with the nearest known field for a misspelt one", () => {
    const errors = errorsOf(
      minimal({
        canary: { subset: "v1" },
        stratgy: { canary: { steps: [] } },
        analysis: { minReqests: 5, minStepDuration: "soon" },
        strategy: { canary: { steps: [{ weight: 150 }, { weight: 5 }] } },
      }),
    );
    expect(errors).toEqual([
      {
        path: "spec.stratgy",
        message: 'unknown field (did you mean "strategy"?), got {"canary":{"steps":[]}}',
      },
      {
        path: "spec.strategy.canary.steps[0].weight",
        message: "expected number to be less or equal to 100, got 150",
      },
      { path: "spec.analysis.minReqests", message: 'unknown field (did you mean "minRequests"?), got 5' },
      { path: "spec.canary.subset", message: 'must differ from stable.subset, got "v1" for both' },
      {
        path: "spec.analysis.minStepDuration",
        message: 'invalid duration "soon": expected e.g. "500ms", "30s", "1m30s", "2h"',
      },
    ]);
  });

  it("suggests a field only when one is close", () => {
    expect(errorsOf(minimal({ zzzz: 1 }))).toEqual([{ path: "spec.zzzz", message: "unknown field, got 1" }]);
  });

  it.each(SPEC_REJECTIONS)("rejects %j at %s", (spec, path, message) => {
    expect(errorsOf(minimal(spec))).toEqual([{ path, message }]);
  });

  it("rejects a wrong kind and a missing spec", () => {
    expect(
      errorsOf({ apiVersion: "meshcanary.io/v1alpha1", kind: "Rollout", metadata: { name: "x" } }),
    ).toEqual([
      { path: "spec", message: "is required" },
      { path: "kind", message: "expected 'Canary', got \"Rollout\"" },
    ]);
  });

  it("accepts fractional weights down to one basis point", () => {
    expect(
      errorsOf(
        minimal({ strategy: { canary: { steps: [{ weight: 0.01 }, { weight: 0.5 }, { weight: 12.34 }] } } }),
      ),
    ).toEqual([]);
  });
});

describe("dottedPath", () => {
  it.each([
    ["/spec/steps/2/weight", "spec.steps[2].weight"],
    ["/metadata/annotations/a~1b", "metadata.annotations.a/b"],
    ["", "(root)"],
  ])("%s → %s", (pointer, dotted) => {
    expect(dottedPath(pointer)).toBe(dotted);
  });
});

describe("withDefaults", () => {
  it("fills analysis, pins, webhook timeouts and the default check without touching the input", () => {
    const canary = minimal({ webhooks: [{ name: "a", url: "http://127.0.0.1:1/" }] });
    const spec = structuredClone(canary.spec) as Parameters<typeof withDefaults>[0];
    const filled = withDefaults(spec);
    expect(filled.analysis).toEqual({
      alpha: 0.01,
      minRequests: 100,
      minStepDuration: "30s",
      progressDeadline: "10m",
      onProgressDeadline: "rollback",
      blockDuration: "10s",
      rollbackOnSharedIncident: false,
      checks: [{ name: "failure-rate", failureRate: { max: 1, maxIncrease: 0 } }],
    });
    expect(filled.pins).toEqual({
      header: "x-meshcanary-pin",
      cookie: "meshcanary-pin",
      requireToken: false,
    });
    expect(filled.webhooks?.[0]?.timeoutSeconds).toBe(10);
    expect(spec).toEqual(canary.spec);
  });

  it("keeps given values and names checks after their kind", () => {
    const filled = withDefaults({
      ...(minimal().spec as Parameters<typeof withDefaults>[0]),
      metrics: [{ name: "tokens", header: "x-llm-total-tokens" }],
      analysis: {
        alpha: 0.05,
        checks: [{ latency: { quantile: 0.999, maxMs: 200 } }, { metric: { name: "tokens", maxRatio: 1.5 } }],
      },
    });
    expect(filled.analysis.alpha).toBe(0.05);
    expect(filled.analysis.minRequests).toBe(100);
    expect(filled.analysis.checks.map((c) => c.name)).toEqual(["latency-p999", "metric-tokens"]);
    expect(validateCanary({ ...minimal(), spec: filled }).ok).toBe(true);
  });
});
