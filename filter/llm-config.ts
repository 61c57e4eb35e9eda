// A route's LLM response-body metrics (docs/llm.md): read from plugin configuration JSON or a
// Directive's LlmMetrics into LlmData, then validated into an LlmConfig with everything the scan
// compares against encoded once. Pure AssemblyScript.

import { Reader } from "./config-json";
import { JsonKind, JsonValue, quote } from "./json";
import { CAPTURE_BYTES } from "./json-capture";
import { LlmData, ModelPriceData } from "./wire";

/** Body size past which a response counts as unparsed (docs/llm.md `maxBodyBytes`). */
export const DEFAULT_MAX_BODY_BYTES: u32 = 1048576;
const MAX_BODY_BYTES: u32 = 64 * 1048576;
const MAX_GUARDRAIL_VALUES = 8;
const MAX_REQUIRED = 16;
const MAX_PRICES = 64;
const MAX_KEY_BYTES = 64;

export const SCHEMA_NONE: u32 = 0;
export const SCHEMA_RESPONSE: u32 = 1;
export const SCHEMA_CONTENT: u32 = 2;

/** Keys the scan looks for, in dictionary order (their index is their key id). */
export const K_USAGE: i32 = 0;
export const K_PROMPT_TOKENS: i32 = 1;
export const K_COMPLETION_TOKENS: i32 = 2;
export const K_TOTAL_TOKENS: i32 = 3;
export const K_INPUT_TOKENS: i32 = 4;
export const K_OUTPUT_TOKENS: i32 = 5;
export const K_MODEL: i32 = 6;
export const K_MESSAGE: i32 = 7;
export const K_DELTA: i32 = 8;
export const K_CONTENT: i32 = 9;
export const K_CHOICES: i32 = 10;
export const K_TEXT: i32 = 11;
const FIXED_KEYS: Array<string> = [
  "usage",
  "prompt_tokens",
  "completion_tokens",
  "total_tokens",
  "input_tokens",
  "output_tokens",
  "model",
  "message",
  "delta",
  "content",
  "choices",
  "text",
];

/** Validated LLM metrics of one route. */
export class LlmConfig {
  maxBodyBytes: u32 = DEFAULT_MAX_BODY_BYTES;
  /** Status codes counted as guardrail blocks. */
  guardrailCodes: Array<u32> = [];
  /** Response header (lower-case UTF-8) whose presence counts a block; empty for none. */
  guardrailHeader: ArrayBuffer = new ArrayBuffer(0);
  /** Required value of that header; empty = any. */
  guardrailHeaderValue: string = "";
  /** Key id of the JSON field counted as a block (-1 none), and the values that count. */
  guardrailFieldId: i32 = -1;
  guardrailValues: Array<ArrayBuffer> = [];
  schemaTarget: u32 = SCHEMA_NONE;
  /** Key ids of the required fields in `dictionary` (target response) or `contentDictionary` (content). */
  requiredIds: Array<i32> = [];
  /** Keys of the response reader: FIXED_KEYS, then the guardrail field and required fields not among them. */
  dictionary: Array<ArrayBuffer> = [];
  /** Keys of the content reader: the required fields. */
  contentDictionary: Array<ArrayBuffer> = [];
  /** Price table, model names UTF-8; `wildcard` is the index of "*" (-1 none). */
  priceModels: Array<ArrayBuffer> = [];
  promptPrices: Array<f64> = [];
  completionPrices: Array<f64> = [];
  wildcard: i32 = -1;
}

// ---- plugin configuration JSON → LlmData ----

/** Reads a route's optional `llm` object; null when absent. */
export function readLlm(r: Reader, o: JsonValue, p: string): LlmData | null {
  const lo = r.obj(o, "llm", p);
  if (lo == null) return null;
  const lp = p + ".llm";
  const d = new LlmData();
  d.maxBodyBytes = <u32>r.int(lo, "maxBodyBytes", lp, 1, <f64>MAX_BODY_BYTES, <f64>DEFAULT_MAX_BODY_BYTES);
  const g = r.obj(lo, "guardrail", lp);
  if (g != null) readGuardrail(r, g, lp + ".guardrail", d);
  const s = r.obj(lo, "outputSchema", lp);
  if (s != null) readSchema(r, s, lp + ".outputSchema", d);
  const prices = r.arr(lo, "prices", lp);
  if (prices != null) {
    for (let i = 0; i < prices.items.length; i++) {
      const pp = lp + ".prices[" + i.toString() + "]";
      const e = prices.items[i];
      const m = new ModelPriceData();
      if (e.kind != JsonKind.Object) r.problem(pp, "must be an object, got " + e.describe());
      else {
        const model = r.str(e, "model", pp, true);
        if (model != null) m.model = model;
        m.promptPerMillion = price(r, e, "promptPerMillion", pp);
        m.completionPerMillion = price(r, e, "completionPerMillion", pp);
      }
      d.prices.push(m);
    }
  }
  return d;
}

function price(r: Reader, o: JsonValue, key: string, p: string): f64 {
  const v = o.get(key);
  if (v == null) return 0;
  if (v.kind != JsonKind.Number || !isFinite(v.num) || v.num < 0) {
    r.problem(p + "." + key, "must be a number >= 0, got " + v.describe());
    return 0;
  }
  return v.num;
}

function readGuardrail(r: Reader, g: JsonValue, gp: string, d: LlmData): void {
  const codes = r.arr(g, "statusCodes", gp);
  if (codes != null) {
    for (let i = 0; i < codes.items.length; i++) {
      const code = r.intValue(codes.items[i], gp + ".statusCodes[" + i.toString() + "]", 100, 599, 0);
      if (code != 0) d.guardrailCodes.push(<u32>code);
    }
  }
  const header = r.str(g, "header", gp, false);
  if (header != null) d.guardrailHeader = header;
  const headerValue = r.str(g, "headerValue", gp, false);
  if (headerValue != null) d.guardrailHeaderValue = headerValue;
  const field = r.str(g, "field", gp, false);
  if (field != null) d.guardrailField = field;
  readStrings(r, g, "values", gp, d.guardrailValues);
}

function readSchema(r: Reader, s: JsonValue, sp: string, d: LlmData): void {
  const target = r.str(s, "target", sp, true);
  if (target != null) {
    if (target == "response") d.schemaTarget = SCHEMA_RESPONSE;
    else if (target == "content") d.schemaTarget = SCHEMA_CONTENT;
    else r.problem(sp + ".target", 'must be "response" or "content", got ' + quote(target));
  }
  readStrings(r, s, "required", sp, d.schemaRequired);
}

function readStrings(r: Reader, o: JsonValue, key: string, p: string, out: Array<string>): void {
  const a = r.arr(o, key, p);
  if (a == null) return;
  for (let i = 0; i < a.items.length; i++) {
    const v = a.items[i];
    if (v.kind != JsonKind.String || v.str.length == 0) {
      r.problem(p + "." + key + "[" + i.toString() + "]", "must be a non-empty string, got " + v.describe());
    } else out.push(v.str);
  }
}

// ---- LlmData → LlmConfig (rules shared by JSON and Directive) ----

/** Validates `d` (problems pushed to `errors`, each with its path under `p`) into a config. */
export function buildLlm(d: LlmData, p: string, errors: Array<string>): LlmConfig {
  const c = new LlmConfig();
  const lp = p + ".llm";
  c.maxBodyBytes = d.maxBodyBytes == 0 ? DEFAULT_MAX_BODY_BYTES : d.maxBodyBytes;
  if (c.maxBodyBytes > MAX_BODY_BYTES) {
    errors.push(lp + ".maxBodyBytes: must be an integer 1.." + MAX_BODY_BYTES.toString() + ", got " + d.maxBodyBytes.toString());
  }
  for (let i = 0; i < FIXED_KEYS.length; i++) c.dictionary.push(String.UTF8.encode(FIXED_KEYS[i]));
  buildGuardrail(d, lp + ".guardrail", c, errors);
  buildSchema(d, lp + ".outputSchema", c, errors);
  buildPrices(d, lp + ".prices", c, errors);
  return c;
}

function buildGuardrail(d: LlmData, gp: string, c: LlmConfig, errors: Array<string>): void {
  for (let i = 0; i < d.guardrailCodes.length; i++) {
    const code = d.guardrailCodes[i];
    if (code < 100 || code > 599) {
      errors.push(gp + ".statusCodes[" + i.toString() + "]: must be an integer 100..599, got " + code.toString());
    }
    c.guardrailCodes.push(code);
  }
  if (d.guardrailHeader.length > 0) c.guardrailHeader = String.UTF8.encode(d.guardrailHeader.toLowerCase());
  else if (d.guardrailHeaderValue.length > 0) errors.push(gp + ".headerValue: needs header");
  c.guardrailHeaderValue = d.guardrailHeaderValue;
  if (d.guardrailField.length > 0) {
    if (String.UTF8.byteLength(d.guardrailField) > MAX_KEY_BYTES) {
      errors.push(gp + ".field: at most " + MAX_KEY_BYTES.toString() + " bytes, got " + quote(d.guardrailField));
    }
    c.guardrailFieldId = keyId(c.dictionary, d.guardrailField);
    if (d.guardrailValues.length == 0) errors.push(gp + ".values: must name at least one value of field " + quote(d.guardrailField));
  } else if (d.guardrailValues.length > 0) errors.push(gp + ".field: is required with values");
  if (d.guardrailValues.length > MAX_GUARDRAIL_VALUES) {
    errors.push(gp + ".values: at most " + MAX_GUARDRAIL_VALUES.toString() + " entries, got " + d.guardrailValues.length.toString());
  }
  for (let i = 0; i < d.guardrailValues.length; i++) {
    const v = String.UTF8.encode(d.guardrailValues[i]);
    if (v.byteLength > CAPTURE_BYTES) {
      errors.push(gp + ".values[" + i.toString() + "]: at most " + CAPTURE_BYTES.toString() + " bytes, got " + quote(d.guardrailValues[i]));
    }
    c.guardrailValues.push(v);
  }
}

function buildSchema(d: LlmData, sp: string, c: LlmConfig, errors: Array<string>): void {
  c.schemaTarget = d.schemaTarget;
  if (d.schemaTarget > SCHEMA_CONTENT) {
    errors.push(sp + ".target: must be response or content, got " + d.schemaTarget.toString());
    c.schemaTarget = SCHEMA_NONE;
  }
  if (d.schemaTarget == SCHEMA_NONE && d.schemaRequired.length > 0) errors.push(sp + ".target: is required with required");
  if (d.schemaRequired.length > MAX_REQUIRED) {
    errors.push(sp + ".required: at most " + MAX_REQUIRED.toString() + " entries, got " + d.schemaRequired.length.toString());
  }
  const dict = d.schemaTarget == SCHEMA_CONTENT ? c.contentDictionary : c.dictionary;
  for (let i = 0; i < d.schemaRequired.length && i < MAX_REQUIRED; i++) {
    const name = d.schemaRequired[i];
    if (String.UTF8.byteLength(name) > MAX_KEY_BYTES) {
      errors.push(sp + ".required[" + i.toString() + "]: at most " + MAX_KEY_BYTES.toString() + " bytes, got " + quote(name));
    }
    c.requiredIds.push(keyId(dict, name));
  }
}

function buildPrices(d: LlmData, pp: string, c: LlmConfig, errors: Array<string>): void {
  if (d.prices.length > MAX_PRICES) {
    errors.push(pp + ": at most " + MAX_PRICES.toString() + " entries, got " + d.prices.length.toString());
  }
  const seen = new Set<string>();
  for (let i = 0; i < d.prices.length; i++) {
    const e = d.prices[i];
    const ep = pp + "[" + i.toString() + "]";
    if (e.model.length == 0) errors.push(ep + ".model: must be a non-empty string");
    else if (seen.has(e.model)) errors.push(ep + ".model: duplicate model " + quote(e.model));
    else if (String.UTF8.byteLength(e.model) > CAPTURE_BYTES) {
      errors.push(ep + ".model: at most " + CAPTURE_BYTES.toString() + " bytes, got " + quote(e.model));
    }
    seen.add(e.model);
    checkPrice(e.promptPerMillion, ep + ".promptPerMillion", errors);
    checkPrice(e.completionPerMillion, ep + ".completionPerMillion", errors);
    if (e.model == "*") c.wildcard = c.priceModels.length;
    c.priceModels.push(String.UTF8.encode(e.model));
    c.promptPrices.push(e.promptPerMillion);
    c.completionPrices.push(e.completionPerMillion);
  }
}

function checkPrice(v: f64, path: string, errors: Array<string>): void {
  if (!isFinite(v) || v < 0) errors.push(path + ": must be a number >= 0, got " + v.toString());
}

/** The id of `name` in `dict`, appended when missing. */
function keyId(dict: Array<ArrayBuffer>, name: string): i32 {
  const b = String.UTF8.encode(name);
  for (let i = 0; i < dict.length; i++) {
    const k = dict[i];
    if (k.byteLength == b.byteLength && memory.compare(changetype<usize>(k), changetype<usize>(b), <usize>b.byteLength) == 0) return i;
  }
  dict.push(b);
  return dict.length - 1;
}
