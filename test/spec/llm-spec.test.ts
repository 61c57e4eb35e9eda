// spec.llm (docs/llm.md): the sample validates and renders into the Directive's LlmMetrics; bad
// entries are named by path and value; llm-* metrics are usable in checks only with spec.llm.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { buildDirective, routeTable } from "../../controller/app/directive.js";
import { toAnalysisChecks } from "../../controller/app/analysis-checks.js";
import { SchemaTarget } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import { validateCanary } from "../../controller/spec/validate.js";
import { minimal } from "../fixtures/spec/rejections.js";

const sample = () => parse(readFileSync("istio/samples/llm/canary.yaml", "utf8"));

function errorsOf(obj: unknown) {
  const r = validateCanary(obj);
  return r.ok ? [] : r.errors;
}

describe("spec.llm", () => {
  it("accepts the sample, whose checks map to the analysis one-to-one with their sustainedFor", () => {
    const r = validateCanary(sample());
    expect(r.ok ? [] : r.errors).toEqual([]);
    const spec = withDefaults(sample().spec as CanarySpec);
    const checks = toAnalysisChecks(spec.analysis.checks);
    expect(checks.map((c) => [c.name, c.kind, c.sustainedForMs])).toEqual([
      ["error-rate", "failureRate", 300_000],
      ["latency-p95", "latency", 300_000],
      ["tokens", "metricMean", 600_000],
      ["guardrail-blocks", "metricRate", 300_000],
      ["time-to-first-token", "metricPerRequest", 300_000],
      ["cost", "metricMean", 600_000],
      ["schema-failures", "metricShare", 300_000],
    ]);
  });

  it("maps maxMeanRatio to the mean check, next to the metric's other limits", () => {
    const checks = toAnalysisChecks([
      { name: "tokens", metric: { name: "llm-total-tokens", maxMeanRatio: 1.5, maxRatio: 2 } },
    ]);
    expect(checks).toEqual([
      { name: "tokens", kind: "metricPerRequest", metric: "llm-total-tokens", maxRatio: 2 },
      { name: "tokens-mean", kind: "metricMean", metric: "llm-total-tokens", maxRatio: 1.5 },
    ]);
  });

  it("renders the Directive's LlmMetrics from the spec", () => {
    const spec = withDefaults(sample().spec as CanarySpec);
    const state = { weightBp: 500, routingVersion: 3 } as Parameters<typeof routeTable>[0][number]["state"];
    const d = buildDirective(3, routeTable([{ canaryId: "default/chat-model", spec, state }]));
    expect(d.routes[0]!.llm).toMatchObject({
      maxBodyBytes: 1048576,
      guardrailCodes: [451],
      guardrailField: "finish_reason",
      guardrailValues: ["content_filter"],
      schemaTarget: SchemaTarget.CONTENT,
      schemaRequired: ["answer"],
      prices: [
        { model: "chat-model-v1", promptPerMillion: 0.15, completionPerMillion: 0.6 },
        { model: "chat-model-v2", promptPerMillion: 0.3, completionPerMillion: 1.2 },
      ],
    });
    const plain = withDefaults(minimal({}).spec as CanarySpec);
    const p = buildDirective(4, routeTable([{ canaryId: "default/x", spec: plain, state }]));
    expect(p.routes[0]!.llm).toBeUndefined();
  });

  it.each([
    [
      { llm: { guardrail: { field: "finish_reason" } } },
      "spec.llm.guardrail.values",
      'must name at least one value of field "finish_reason"',
    ],
    [{ llm: { guardrail: { values: ["x"] } } }, "spec.llm.guardrail.field", "is required with values"],
    [
      { llm: { guardrail: { headerValue: "1" } } },
      "spec.llm.guardrail.header",
      "is required with headerValue",
    ],
    [
      { llm: { prices: [{ model: "m" }, { model: "m" }] } },
      "spec.llm.prices[1].model",
      'duplicate model "m"',
    ],
    [{ llm: { outputSchema: { target: "xml" } } }, "spec.llm.outputSchema.target", ""],
    [
      { llm: { maxBodyBytes: 0 } },
      "spec.llm.maxBodyBytes",
      "expected integer to be greater or equal to 1, got 0",
    ],
    [
      { analysis: { checks: [{ metric: { name: "llm-total-tokens", maxRatio: 1.5 } }] } },
      "spec.analysis.checks[0].metric.name",
      'must name an entry of spec.metrics (or an llm-* metric with spec.llm set), got "llm-total-tokens"',
    ],
    [
      { llm: {}, analysis: { checks: [{ metric: { name: "llm-ttft-ms", quantile: 0.95 } }] } },
      "spec.analysis.checks[0].metric.quantile",
      "needs maxRatio",
    ],
    [
      { llm: {}, analysis: { checks: [{ metric: { name: "llm-total-tokens", maxMeanRatio: 0 } }] } },
      "spec.analysis.checks[0].metric.maxMeanRatio",
      "expected number to be greater than 0, got 0",
    ],
  ])("rejects %j at %s", (spec, path, message) => {
    const errors = errorsOf(minimal(spec));
    const e = errors.find((x) => x.path === path);
    expect(e, JSON.stringify(errors)).toBeDefined();
    expect(e!.message).toContain(message);
  });
});
