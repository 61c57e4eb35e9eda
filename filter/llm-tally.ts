// LLM response metrics into a variant's tallies: each is a MetricTotals entry with a fixed name
// (docs/llm.md), so the report, the controller's ingest and its metric checks treat them like
// header metrics. Event metrics record 1 or 0 per response: sum = events, count = responses judged.
// Pure AssemblyScript.

import { ensureMetric } from "./totals-binding";
import { LlmConfig, SCHEMA_CONTENT, SCHEMA_NONE, SCHEMA_RESPONSE } from "./llm-config";
import { FORMAT_JSON, FORMAT_NONE, FORMAT_SSE, LlmScan } from "./llm-scan";
import { record, saturatingAdd } from "./sketch";
import { VariantTotalsData } from "./wire";

export const M_PROMPT_TOKENS = "llm-prompt-tokens";
export const M_COMPLETION_TOKENS = "llm-completion-tokens";
export const M_TOTAL_TOKENS = "llm-total-tokens";
/** Price-table cost per request in millionths of the price currency (prices are per million tokens). */
export const M_COST = "llm-cost";
export const M_TTFT_MS = "llm-ttft-ms";
export const M_RESPONSE_BYTES = "llm-response-bytes";
export const M_GUARDRAIL_BLOCKS = "llm-guardrail-blocks";
export const M_SCHEMA_FAILURES = "llm-schema-failures";
export const M_UNPARSED = "llm-unparsed";

/** Every LLM metric name, in the order the tallies list them. */
export const LLM_METRICS: Array<string> = [
  M_PROMPT_TOKENS,
  M_COMPLETION_TOKENS,
  M_TOTAL_TOKENS,
  M_COST,
  M_TTFT_MS,
  M_RESPONSE_BYTES,
  M_GUARDRAIL_BLOCKS,
  M_SCHEMA_FAILURES,
  M_UNPARSED,
];

/** What on_log knows besides the scan. */
export class LlmFacts {
  /** HTTP status, -1 when none. */
  code: i32 = -1;
  /** The guardrail header was present (with the configured value, if any). */
  headerBlocked: bool = false;
}

function put(t: VariantTotalsData, name: string, v: f64): void {
  const m = ensureMetric(t, name);
  m.count++;
  m.sum = saturatingAdd(m.sum, v);
  record(m.sketch, v);
}

/** Adds one response's LLM metrics to `t` (the scan has been finished). */
export function tallyLlm(t: VariantTotalsData, scan: LlmScan, facts: LlmFacts): void {
  if (facts.code < 100 || facts.code > 599) return; // no response: the request failure covers it
  const cfg = scan.cfg;
  put(t, M_RESPONSE_BYTES, <f64>scan.bytes);
  if (scan.firstByteNs > 0 && scan.startNs > 0 && scan.firstByteNs >= scan.startNs) {
    put(t, M_TTFT_MS, <f64>(scan.firstByteNs - scan.startNs) / 1e6);
  }
  const blocked = facts.headerBlocked || scan.fieldBlocked || cfg.guardrailCodes.includes(<u32>facts.code);
  put(t, M_GUARDRAIL_BLOCKS, blocked ? 1 : 0);
  if (scan.format == FORMAT_NONE) return;
  const unparsed = scan.unparsed();
  put(t, M_UNPARSED, unparsed ? 1 : 0);
  if (!unparsed) tallyUsage(t, scan, cfg);
  const schema = schemaFailure(scan, cfg, facts.code, blocked);
  if (schema >= 0) put(t, M_SCHEMA_FAILURES, <f64>schema);
}

function tallyUsage(t: VariantTotalsData, scan: LlmScan, cfg: LlmConfig): void {
  const prompt = scan.prompt;
  const completion = scan.completion;
  if (!isNaN(prompt)) put(t, M_PROMPT_TOKENS, prompt);
  if (!isNaN(completion)) put(t, M_COMPLETION_TOKENS, completion);
  let total = scan.total;
  if (isNaN(total) && (!isNaN(prompt) || !isNaN(completion))) total = orZero(prompt) + orZero(completion);
  if (!isNaN(total)) put(t, M_TOTAL_TOKENS, total);
  const p = scan.priceIndex;
  if (p >= 0 && (!isNaN(prompt) || !isNaN(completion))) {
    put(t, M_COST, orZero(prompt) * cfg.promptPrices[p] + orZero(completion) * cfg.completionPrices[p]);
  }
}

function orZero(v: f64): f64 {
  return isNaN(v) ? 0 : v;
}

/**
 * 1 when a successful, unblocked response fails the output schema, 0 when it passes, -1 when not
 * judged (no schema, not 2xx, blocked, cut off by the size limit, or a format the target lacks).
 */
function schemaFailure(scan: LlmScan, cfg: LlmConfig, code: i32, blocked: bool): i32 {
  if (cfg.schemaTarget == SCHEMA_NONE || code < 200 || code > 299 || blocked || scan.overLimit) return -1;
  if (cfg.schemaTarget == SCHEMA_RESPONSE) {
    if (scan.format != FORMAT_JSON) return -1;
    return documentPasses(scan.json.complete && !scan.json.invalid && !scan.json.overflow, scan.json.topKeys, cfg) ? 0 : 1;
  }
  if (cfg.schemaTarget != SCHEMA_CONTENT || (scan.format != FORMAT_JSON && scan.format != FORMAT_SSE)) return -1;
  const c = scan.content;
  return documentPasses(scan.contentSeen && c.complete && !c.invalid && !c.overflow, c.topKeys, cfg) ? 0 : 1;
}

/** A valid document whose top-level object has every required key. */
function documentPasses(valid: bool, topKeys: u64, cfg: LlmConfig): bool {
  if (!valid) return false;
  const ids = cfg.requiredIds;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id < 0 || id >= 64 || (topKeys & (<u64>1 << <u64>id)) == 0) return false;
  }
  return true;
}
