// What happened to a routed request, tallied against its variant: response body bytes as they
// pass (and the LLM scan of routes with LLM metrics), then in on_log the status, response flags,
// latency and metric headers (filter/tally.ts decides failure) and the Envoy request/failure
// counters. Streams that were not routed cost nothing here.

import { RESPONSE_HEADERS } from "./abi/enums";
import { streamState } from "./contexts";
import { incrementCounter } from "./envoy-counters";
import { getHeader, getIntProperty, monotonicNs } from "./host-io";
import { llmLog, llmResponseBody, llmResponseHeaders } from "./llm-host";
import { tallySlow } from "./slow-counts";
import { Outcome, parseMetricValue, tallyOutcome } from "./tally";
import { tallyUserGroup } from "./user-groups";

const RESPONSE_CODE = String.UTF8.encode("response\0code");
const RESPONSE_FLAGS = String.UTF8.encode("response\0flags");

/** Reused for every request (a callback runs to completion before the next one starts). */
const outcome = new Outcome();

/** LLM routes: the response's content type picks how its body is scanned. */
export function onResponseHeaders(ctx: u32): i32 {
  const stream = streamState(ctx);
  if (stream != null && stream.llm != null) llmResponseHeaders(stream.llm!);
  return 0;
}

/**
 * Counts each chunk's bytes (the filter always answers Continue, so `size` is this chunk's, never a
 * buffered total); LLM routes also scan it as it passes.
 */
export function onResponseBody(ctx: u32, size: u32): i32 {
  const stream = streamState(ctx);
  if (stream == null) return 0;
  stream.responseBytes += size;
  if (stream.llm != null) llmResponseBody(stream.llm!, size);
  return 0;
}

/** on_log: tallies a routed request's outcome against its variant. */
export function onLog(ctx: u32): void {
  const stream = streamState(ctx);
  if (stream == null) return;
  const route = stream.route;
  if (route == null || stream.variant < 0 || stream.variant >= route.totals.length) return;
  const o = outcome;
  o.reset();
  o.code = <i32>getIntProperty(RESPONSE_CODE, -1);
  // Flags only matter when the code alone does not already make the request a failure.
  if (o.code >= 100 && o.code < 500) o.flags = <u64>getIntProperty(RESPONSE_FLAGS, 0);
  o.durationNs = latencyNs(stream.startNs);
  o.responseBytes = stream.responseBytes;
  for (let i = 0; i < route.metricHeaders.length; i++) {
    // Response headers are read-only but available in on_log (contract §3.2).
    const v = getHeader(RESPONSE_HEADERS, route.metricHeaderKeys[i]);
    o.metrics.push(v != null ? parseMetricValue(v) : NaN);
  }
  const failed = tallyOutcome(route.totals[stream.variant], route, o);
  tallyUserGroup(route.totals[stream.variant], stream.userGroup, failed);
  if (route.slowUs.length > 0) tallySlow(route.totals[stream.variant], route, stream.variant, o.durationNs, stream.userGroup);
  if (stream.llm != null) llmLog(route.totals[stream.variant], stream.llm!, o.code);
  if (stream.variant < route.requestCounters.length) incrementCounter(route.requestCounters[stream.variant]);
  if (failed && stream.variant < route.failureCounters.length) incrementCounter(route.failureCounters[stream.variant]);
}

/** Nanoseconds since `startNs` (a monotonic reading), or -1 when either reading is missing. */
function latencyNs(startNs: i64): i64 {
  if (startNs < 0) return -1;
  const now = monotonicNs();
  return now >= startNs ? now - startNs : -1;
}
