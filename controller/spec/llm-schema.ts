/**
 * The Canary's `spec.llm` section (docs/llm.md): response-body metrics of an OpenAI/Anthropic-
 * compatible model server, measured by the filter and tallied under the fixed names below, which
 * analysis checks (`metric.name`) may use like spec.metrics entries.
 */
import { type Static, Type } from "@sinclair/typebox";
import { HEADER_PATTERN, Obj } from "./schema-builders.js";

/** Metric names the filter reports for a route with `llm` (filter/llm-tally.ts). */
export const LLM_METRICS = [
  "llm-prompt-tokens",
  "llm-completion-tokens",
  "llm-total-tokens",
  "llm-cost",
  "llm-ttft-ms",
  "llm-response-bytes",
  "llm-guardrail-blocks",
  "llm-schema-failures",
  "llm-unparsed",
] as const;

const Price = Obj(
  {
    model: Type.String({
      description: 'The response\'s "model" value; "*" prices every model not listed',
      minLength: 1,
      maxLength: 128,
    }),
    promptPerMillion: Type.Optional(
      Type.Number({ description: "Price per million prompt (input) tokens", minimum: 0 }),
    ),
    completionPerMillion: Type.Optional(
      Type.Number({ description: "Price per million completion (output) tokens", minimum: 0 }),
    ),
  },
  "Prices of one model; llm-cost is in millionths of this currency",
);

export const LlmSchema = Obj(
  {
    maxBodyBytes: Type.Optional(
      Type.Integer({
        description: "A longer response body counts as unparsed (llm-unparsed), not failed; default 1 MiB",
        minimum: 1,
        maximum: 64 * 1048576,
      }),
    ),
    guardrail: Type.Optional(
      Obj(
        {
          statusCodes: Type.Optional(
            Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
              description: "Response codes counted as guardrail blocks",
              maxItems: 16,
            }),
          ),
          header: Type.Optional(
            Type.String({
              description: "Response header counted as a block when present",
              pattern: HEADER_PATTERN,
            }),
          ),
          headerValue: Type.Optional(
            Type.String({ description: "Only this value of the header counts", minLength: 1 }),
          ),
          field: Type.Optional(
            Type.String({
              description: "JSON field (key at any depth), e.g. finish_reason",
              minLength: 1,
              maxLength: 64,
            }),
          ),
          values: Type.Optional(
            Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
              description: "Values of the field counted as blocks, e.g. content_filter",
              maxItems: 8,
            }),
          ),
        },
        "What counts as a guardrail block (llm-guardrail-blocks)",
      ),
    ),
    outputSchema: Type.Optional(
      Obj(
        {
          target: Type.Union([Type.Literal("response"), Type.Literal("content")], {
            description: "response: the body's JSON; content: the assistant message content parsed as JSON",
          }),
          required: Type.Optional(
            Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
              description: "Top-level fields the JSON must have",
              maxItems: 16,
            }),
          ),
        },
        "Output-schema check of successful answers (llm-schema-failures)",
      ),
    ),
    prices: Type.Optional(
      Type.Array(Price, { description: "Price table for llm-cost, per model", maxItems: 64 }),
    ),
  },
  "LLM response-body metrics measured by the filter (docs/llm.md)",
);

export type LlmSpec = Static<typeof LlmSchema>;

/** Problems the schema cannot express, each with its path under `at`. */
export function llmErrors(llm: LlmSpec, at: string): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const g = llm.guardrail;
  if (g?.field !== undefined && (g.values ?? []).length === 0) {
    out.push({
      path: `${at}.guardrail.values`,
      message: `must name at least one value of field ${JSON.stringify(g.field)}`,
    });
  }
  if (g?.values !== undefined && g.field === undefined) {
    out.push({ path: `${at}.guardrail.field`, message: "is required with values" });
  }
  if (g?.headerValue !== undefined && g.header === undefined) {
    out.push({ path: `${at}.guardrail.header`, message: "is required with headerValue" });
  }
  const seen = new Set<string>();
  (llm.prices ?? []).forEach((p, i) => {
    if (seen.has(p.model))
      out.push({ path: `${at}.prices[${i}].model`, message: `duplicate model ${JSON.stringify(p.model)}` });
    seen.add(p.model);
  });
  return out;
}
