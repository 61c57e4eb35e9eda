/** A Canary's `spec.llm` as the Directive's LlmMetrics (proto/meshcanary/v1/telemetry.proto). */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type LlmMetricsSchema, SchemaTarget } from "../gen/meshcanary/v1/telemetry_pb.js";
import type { LlmSpec } from "../spec/llm-schema.js";

export function llmMetricsOf(llm: LlmSpec): MessageInitShape<typeof LlmMetricsSchema> {
  const g = llm.guardrail ?? {};
  const schema = llm.outputSchema;
  return {
    maxBodyBytes: llm.maxBodyBytes ?? 0,
    guardrailCodes: g.statusCodes ?? [],
    guardrailHeader: g.header ?? "",
    guardrailHeaderValue: g.headerValue ?? "",
    guardrailField: g.field ?? "",
    guardrailValues: g.values ?? [],
    schemaTarget:
      schema === undefined
        ? SchemaTarget.NONE
        : schema.target === "content"
          ? SchemaTarget.CONTENT
          : SchemaTarget.RESPONSE,
    schemaRequired: schema?.required ?? [],
    prices: (llm.prices ?? []).map((p) => ({
      model: p.model,
      promptPerMillion: p.promptPerMillion ?? 0,
      completionPerMillion: p.completionPerMillion ?? 0,
    })),
  };
}
