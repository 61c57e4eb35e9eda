// Pure: the charts of an LLM Canary (spec.llm), per variant, from the llm-* metric means (no DOM).

/** llm-* metrics with a chart of their own (left out of the generic per-metric charts). */
export const LLM_CHARTED = ["llm-total-tokens", "llm-cost", "llm-guardrail-blocks"];

/**
 * { id, title, unit, value } per chart; value maps a VariantPoint to the figure or null.
 * llm-cost is in millionths of the price currency per request (docs/llm.md): per 1,000 requests
 * that is the mean / 1000. A guardrail block counts 1 per blocked request, so its mean is a rate.
 */
export const LLM_CHARTS = [
  {
    id: "llm-tokens",
    title: "Tokens per request",
    unit: "tokens",
    value: (v) => mean(v, "llm-total-tokens", 1, null),
  },
  {
    id: "llm-cost",
    title: "Cost per 1,000 requests",
    unit: "price currency",
    value: (v) => mean(v, "llm-cost", 1 / 1000, null),
  },
  {
    id: "llm-guardrail",
    title: "Guardrail block rate",
    unit: "% of requests",
    value: (v) => mean(v, "llm-guardrail-blocks", 100, 0),
  },
];

/** The metric's mean per request, scaled; `absent` when requests came without the metric's tally. */
function mean(v, metric, scale, absent) {
  if (!(v.requests > 0)) return null;
  const m = v.metrics?.[metric];
  return m === undefined ? absent : m * scale;
}
