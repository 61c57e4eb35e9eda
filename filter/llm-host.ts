// The host side of the LLM response scan: the clock, the response headers that pick the format, the
// body chunks (read, scanned, passed on unchanged: the callbacks always answer Continue) and the
// tally in on_log. Scans are pooled, so a request allocates none of its own. Never traps on traffic.

import { HTTP_RESPONSE_BODY, RESPONSE_HEADERS } from "./abi/enums";
import { proxy_get_buffer_bytes, proxy_get_current_time_nanoseconds } from "./abi/imports";
import { OUT_PTR, OUT_SIZE, release, resetOut } from "./abi/memory";
import { OK, getHeader } from "./host-io";
import { LlmConfig } from "./llm-config";
import { LlmScan } from "./llm-scan";
import { LlmFacts, tallyLlm } from "./llm-tally";
import { VariantTotalsData } from "./wire";

const CONTENT_TYPE = String.UTF8.encode("content-type");
const CONTENT_ENCODING = String.UTF8.encode("content-encoding");
const MAX_FREE_SCANS = 256;
/** Bytes read per host call: the host's static return slot holds this much (filter/abi/memory.ts). */
const READ_SLICE: u32 = 1024;

const freeScans = new Array<LlmScan>();
const facts = new LlmFacts();

/** Wall clock in nanoseconds (0 if the host refuses). */
function nowNs(): i64 {
  store<u64>(OUT_PTR, 0);
  if (proxy_get_current_time_nanoseconds(OUT_PTR) != OK) return 0;
  return <i64>load<u64>(OUT_PTR);
}

/** A scan for a request on a route with `cfg`, timed from now (on_request_headers). */
export function llmStart(cfg: LlmConfig): LlmScan {
  const scan = freeScans.length > 0 ? freeScans.pop() : new LlmScan();
  scan.begin(cfg, nowNs());
  return scan;
}

/** on_response_headers: the body format. */
export function llmResponseHeaders(scan: LlmScan): void {
  scan.headers(getHeader(RESPONSE_HEADERS, CONTENT_TYPE), getHeader(RESPONSE_HEADERS, CONTENT_ENCODING));
}

/**
 * on_response_body: times and counts the chunk, and reads it while the scan wants bytes, in slices
 * of at most READ_SLICE bytes, so a huge chunk never needs a copy of its own size in the VM.
 */
export function llmResponseBody(scan: LlmScan, size: u32): void {
  // The clock only for the first byte: one host call fewer on every later chunk.
  const now = size > 0 && scan.awaitingFirstByte() ? nowNs() : 0;
  if (!scan.arrive(<usize>size, now)) return;
  for (let at: u32 = 0; at < size && scan.reading(); at += READ_SLICE) {
    const want = min(READ_SLICE, size - at);
    resetOut();
    if (proxy_get_buffer_bytes(HTTP_RESPONSE_BODY, at, want, OUT_PTR, OUT_SIZE) != OK) {
      release(load<u32>(OUT_PTR));
      scan.overLimit = true; // unreadable: counted as unparsed rather than guessed
      return;
    }
    const ptr = <usize>load<u32>(OUT_PTR);
    if (ptr != 0) scan.feed(ptr, <usize>min(load<u32>(OUT_SIZE), want));
    release(ptr);
  }
}

/** on_log: finishes the scan and tallies it into `t`; `code` is the response code (-1 none). */
export function llmLog(t: VariantTotalsData, scan: LlmScan, code: i32): void {
  scan.finish();
  const cfg = scan.cfg;
  facts.code = code;
  facts.headerBlocked = false;
  if (cfg.guardrailHeader.byteLength > 0) {
    const v = getHeader(RESPONSE_HEADERS, cfg.guardrailHeader);
    facts.headerBlocked = v != null && (cfg.guardrailHeaderValue.length == 0 || v == cfg.guardrailHeaderValue);
  }
  tallyLlm(t, scan, facts);
}

/** Returns a scan to the pool. */
export function llmDone(scan: LlmScan): void {
  if (freeScans.length < MAX_FREE_SCANS) freeScans.push(scan);
}
