// The per-stream scan of an LLM response body (docs/llm.md): JSON or server-sent events, read as the
// chunks pass (never buffered, never paused), finding `usage` token counts, the model, a guardrail
// field value and the assistant message content (for the output-schema check). Memory per stream is
// fixed: two JsonStreams and a few counters. Pure AssemblyScript: filter/llm-host.ts feeds it.

import {
  K_CHOICES,
  K_COMPLETION_TOKENS,
  K_CONTENT,
  K_DELTA,
  K_INPUT_TOKENS,
  K_MESSAGE,
  K_MODEL,
  K_OUTPUT_TOKENS,
  K_PROMPT_TOKENS,
  K_TEXT,
  K_TOTAL_TOKENS,
  K_USAGE,
  LlmConfig,
  SCHEMA_CONTENT,
} from "./llm-config";
import { JsonListener, STRING_CAPTURE, STRING_SKIP, STRING_STREAM } from "./json-listener";
import { JsonStream } from "./json-stream";

/** How the body is read, from the response headers. */
export const FORMAT_NONE: i32 = 0; // not JSON or SSE: only timing, length and guardrail status/header
export const FORMAT_JSON: i32 = 1;
export const FORMAT_SSE: i32 = 2;
/** JSON or SSE but encoded (e.g. gzip): counted as unparsed. */
export const FORMAT_ENCODED: i32 = 3;

// What a captured string is for (bits).
const CAPTURE_MODEL: i32 = 1;
const CAPTURE_GUARDRAIL: i32 = 2;

// SSE line states.
const L_PREFIX: i32 = 0; // matching "data:" at a line start
const L_SPACE: i32 = 1; // right after "data:" (one space is dropped)
const L_DATA: i32 = 2;
const L_SKIP: i32 = 3; // another field or a comment

const DATA_PREFIX = "data:";
const DONE = "[DONE]";

/** The scan of one response. */
export class LlmScan extends JsonListener {
  cfg: LlmConfig = new LlmConfig();
  format: i32 = FORMAT_NONE;
  /** Response body bytes seen. */
  bytes: u64 = 0;
  /** Wall clock (ns) at the request and at the first body byte; 0 = unknown. */
  startNs: i64 = 0;
  firstByteNs: i64 = 0;
  /** Past maxBodyBytes: reading stopped. */
  overLimit: bool = false;
  /** A server-sent event's data was not JSON (and not [DONE]). */
  badEvent: bool = false;
  /** Usage counts, NaN until seen (the last value seen wins: streamed usage is cumulative). */
  prompt: f64 = NaN;
  completion: f64 = NaN;
  total: f64 = NaN;
  /** The guardrail field had a blocking value. */
  fieldBlocked: bool = false;
  /** Index of the first model's price entry (-2 no model seen yet, -1 none). */
  priceIndex: i32 = -2;
  /** The assistant content reached the content reader (target content). */
  contentSeen: bool = false;
  /** The response (a JSON body, or the current event's data). */
  json: JsonStream = new JsonStream();
  /** The assistant message content as a JSON document of its own. */
  content: JsonStream = new JsonStream();

  private capturing: i32 = 0;
  private lineState: i32 = L_PREFIX;
  private lineAt: i32 = 0;
  private afterCR: bool = false;
  private eventData: bool = false;
  private eventBytes: i32 = 0;
  private eventIsDone: bool = true;

  constructor() {
    super();
    this.json.listener = this;
  }

  /** Ready for a new response on a route with `cfg`; `startNs` is the request's time. */
  begin(cfg: LlmConfig, startNs: i64): void {
    this.cfg = cfg;
    this.format = FORMAT_NONE;
    this.bytes = 0;
    this.startNs = startNs;
    this.firstByteNs = 0;
    this.overLimit = false;
    this.badEvent = false;
    this.prompt = NaN;
    this.completion = NaN;
    this.total = NaN;
    this.fieldBlocked = false;
    this.priceIndex = -2;
    this.contentSeen = false;
    this.capturing = 0;
    this.lineState = L_PREFIX;
    this.lineAt = 0;
    this.afterCR = false;
    this.resetEvent();
    this.json.useDictionary(cfg.dictionary);
    this.json.reset();
    this.content.useDictionary(cfg.contentDictionary);
    this.content.reset();
  }

  /** Picks the format from `content-type` / `content-encoding` (either may be null). */
  headers(contentType: string | null, contentEncoding: string | null): void {
    const ct = contentType != null ? contentType.toLowerCase() : "";
    let format = FORMAT_NONE;
    if (ct.startsWith("text/event-stream")) format = FORMAT_SSE;
    else if (ct.startsWith("application/json") || (ct.startsWith("application/") && ct.includes("+json"))) format = FORMAT_JSON;
    const identity = contentEncoding == null || contentEncoding.length == 0 || contentEncoding.toLowerCase() == "identity";
    this.format = format != FORMAT_NONE && !identity ? FORMAT_ENCODED : format;
  }

  /** Whether body bytes are still read (not only counted). */
  reading(): bool {
    return (this.format == FORMAT_JSON || this.format == FORMAT_SSE) && !this.overLimit;
  }

  /** Whether the next non-empty chunk is the first (its arrival time is the time to first byte). */
  awaitingFirstByte(): bool {
    return this.firstByteNs == 0;
  }

  /** Counts a chunk of `size` bytes (`nowNs`: its time, if first); returns whether to feed its bytes. */
  arrive(size: usize, nowNs: i64): bool {
    if (size == 0) return false;
    if (this.firstByteNs == 0) this.firstByteNs = nowNs;
    this.bytes += <u64>size;
    if (this.bytes > <u64>this.cfg.maxBodyBytes) this.overLimit = true;
    return this.reading();
  }

  /** Reads a chunk (after arrive() said so). */
  feed(ptr: usize, size: usize): void {
    if (this.format == FORMAT_JSON) {
      this.json.feed(ptr, size);
      return;
    }
    let i: usize = 0;
    while (i < size) {
      const st = this.lineState;
      if (st == L_DATA || st == L_SKIP) {
        // The rest of a line in one piece: data to the event's reader, anything else skipped.
        const from = i;
        while (i < size) {
          const c = load<u8>(ptr + i);
          if (c == 0x0a || c == 0x0d) break;
          i++;
        }
        if (i > from) this.afterCR = false;
        if (st == L_DATA && i > from) this.dataRun(ptr + from, i - from);
        if (i == size) return;
      }
      this.sseByte(load<u8>(ptr + i));
      i++;
    }
  }

  /** The body ended (or the stream did): completes a final number or unterminated event. */
  finish(): void {
    if (this.format == FORMAT_JSON) this.json.finish();
    else if (this.format == FORMAT_SSE && !this.overLimit) this.endEvent();
    this.content.finish();
  }

  /** The body could not be read completely. */
  unparsed(): bool {
    if (this.format == FORMAT_ENCODED || this.overLimit) return true;
    if (this.format == FORMAT_JSON) return !this.json.complete || this.json.invalid || this.json.overflow;
    return this.format == FORMAT_SSE && this.badEvent;
  }

  // ---- server-sent events ----

  private sseByte(c: u8): void {
    if (c == 0x0a && this.afterCR) {
      this.afterCR = false;
      return; // the LF of a CRLF
    }
    this.afterCR = c == 0x0d;
    if (c == 0x0a || c == 0x0d) {
      this.endLine();
      return;
    }
    const st = this.lineState;
    if (st == L_PREFIX) {
      if (<u32>c == <u32>DATA_PREFIX.charCodeAt(this.lineAt)) {
        if (++this.lineAt == DATA_PREFIX.length) this.startData();
      } else this.lineState = L_SKIP;
    } else if (st == L_SPACE) {
      this.lineState = L_DATA;
      if (c != 0x20) this.dataByte(c);
    } else if (st == L_DATA) this.dataByte(c);
  }

  private startData(): void {
    this.lineState = L_SPACE;
    // Data lines of one event are joined with a newline (JSON whitespace).
    if (this.eventData) this.dataByte(0x0a);
    this.eventData = true;
  }

  private endLine(): void {
    const empty = this.lineState == L_PREFIX && this.lineAt == 0;
    this.lineState = L_PREFIX;
    this.lineAt = 0;
    if (empty) this.endEvent();
  }

  private dataByte(c: u8): void {
    this.noteDone(c);
    if (!this.json.stopped()) this.json.byte(c);
  }

  private dataRun(ptr: usize, length: usize): void {
    let i: usize = 0;
    for (; i < length && this.eventIsDone; i++) this.noteDone(load<u8>(ptr + i));
    // Past a possible [DONE], eventBytes only has to say "some data came".
    if (i < length) this.eventBytes++;
    this.json.feed(ptr, length);
  }

  /** Whether the event's data is still exactly `[DONE]` (then whitespace) after byte `c`. */
  private noteDone(c: u8): void {
    const at = this.eventBytes++;
    if (!this.eventIsDone) return;
    if (at < DONE.length) {
      if (<u32>c != <u32>DONE.charCodeAt(at)) this.eventIsDone = false;
    } else if (c != 0x20 && c != 0x0a && c != 0x09) this.eventIsDone = false;
  }

  private endEvent(): void {
    if (this.eventData && this.eventBytes > 0) {
      this.json.finish();
      const done = this.eventIsDone && this.eventBytes >= DONE.length;
      if (!done && (!this.json.complete || this.json.stopped())) this.badEvent = true;
    }
    this.json.reset();
    this.resetEvent();
  }

  private resetEvent(): void {
    this.eventData = false;
    this.eventBytes = 0;
    this.eventIsDone = true;
  }

  // ---- JSON listener ----

  number(r: JsonStream, v: f64): void {
    const d = r.depth;
    if (d < 2 || r.keyAt(d - 1) != K_USAGE || !isFinite(v) || v < 0) return;
    const k = r.keyAt(d);
    if (k == K_PROMPT_TOKENS || k == K_INPUT_TOKENS) this.prompt = v;
    else if (k == K_COMPLETION_TOKENS || k == K_OUTPUT_TOKENS) this.completion = v;
    else if (k == K_TOTAL_TOKENS) this.total = v;
  }

  stringStart(r: JsonStream): i32 {
    const d = r.depth;
    const k = r.keyAt(d);
    let capture = 0;
    if (k == K_MODEL && this.priceIndex == -2 && (d == 1 || (d == 2 && r.keyAt(1) == K_MESSAGE))) capture |= CAPTURE_MODEL;
    if (k >= 0 && k == this.cfg.guardrailFieldId) capture |= CAPTURE_GUARDRAIL;
    this.capturing = capture;
    if (capture != 0) return STRING_CAPTURE;
    if (this.cfg.schemaTarget == SCHEMA_CONTENT && isContent(r, d, k)) {
      this.contentSeen = true;
      return STRING_STREAM;
    }
    return STRING_SKIP;
  }

  stringByte(_r: JsonStream, b: u8): void {
    if (!this.content.stopped()) this.content.byte(b);
  }

  stringRun(_r: JsonStream, ptr: usize, length: usize): void {
    this.content.feed(ptr, length);
  }

  stringEnd(r: JsonStream): void {
    const capture = this.capturing;
    this.capturing = 0;
    if ((capture & CAPTURE_MODEL) != 0) this.priceIndex = this.priceOf(r);
    if ((capture & CAPTURE_GUARDRAIL) != 0) {
      const values = this.cfg.guardrailValues;
      for (let i = 0; i < values.length; i++) {
        if (r.capturedEquals(values[i])) this.fieldBlocked = true;
      }
    }
  }

  private priceOf(r: JsonStream): i32 {
    const models = this.cfg.priceModels;
    for (let i = 0; i < models.length; i++) {
      if (r.capturedEquals(models[i])) return i;
    }
    return this.cfg.wildcard;
  }
}

/**
 * Whether the string at level `d` with key `k` is assistant text: OpenAI `choices[0].message.content`
 * or `choices[0].delta.content`; Anthropic `content[0].text` or a streamed `delta.text`.
 */
function isContent(r: JsonStream, d: i32, k: i32): bool {
  if (k == K_CONTENT && d == 4) {
    const parent = r.keyAt(3);
    return r.keyAt(1) == K_CHOICES && r.indexAt(2) == 0 && (parent == K_MESSAGE || parent == K_DELTA);
  }
  if (k != K_TEXT) return false;
  if (d == 3) return r.keyAt(1) == K_CONTENT && r.indexAt(2) == 0;
  return d == 2 && r.keyAt(1) == K_DELTA;
}
