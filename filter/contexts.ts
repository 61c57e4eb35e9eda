// The filter's per-context state: one RootState per root context (its configuration and tick
// period) and one StreamState per HTTP stream (what on_log needs to tally the request). Stream
// states are pooled and the last lookups cached, so a request allocates nothing and mostly skips
// the maps. What runs per stream is @inline: a call would add a GC shadow-stack frame.

import { FilterConfig, Route } from "./config";
import { llmDone } from "./llm-host";
import { LlmScan } from "./llm-scan";

/** Per root context: its configuration and the tick period it armed. */
export class RootState {
  config: FilterConfig;
  tickMs: u32 = 0;
  constructor(config: FilterConfig) {
    this.config = config;
  }
}

/** Per stream: its root and, once decided, the route and variant for on_log. */
export class StreamState {
  root: u32 = 0;
  route: Route | null = null;
  variant: i32 = -1;
  /** The request's user group (filter/user-groups.ts), or -1: pinned. */
  userGroup: i32 = -1;
  /** The response-body scan of a route with LLM metrics. */
  llm: LlmScan | null = null;
  /**
   * Response body bytes that passed this filter, counted in on_response_body (called for every
   * chunk anyway): Envoy's `response.size` property would cost a host call and a malloc in on_log.
   */
  responseBytes: u64 = 0;
  /**
   * Monotonic clock when the request was routed (-1 = unknown); on_log's reading minus this is the
   * latency. Two clock reads cost less than `request.duration` (a host call plus a malloc).
   */
  startNs: i64 = -1;
}

const roots = new Map<u32, RootState>();
const streams = new Map<u32, StreamState>();
/** Finished streams' states, reused so a request allocates no state of its own. */
const freeStreams = new Array<StreamState>();
const MAX_FREE_STREAMS = 1024;
// The last stream and root looked up: a stream's callbacks come in a row, and one root serves
// nearly every stream, so most lookups skip the maps. Cleared whenever the maps change.
let lastStreamId: u32 = 0;
let lastStream: StreamState | null = null;
let lastRootId: u32 = 0;
let lastRoot: RootState | null = null;

/** The state of stream context `ctx`, or null. */
export function streamState(ctx: u32): StreamState | null {
  if (lastStream != null && ctx == lastStreamId) return lastStream;
  if (!streams.has(ctx)) return null;
  const stream = streams.get(ctx);
  lastStreamId = ctx;
  lastStream = stream;
  return stream;
}

/** The state of root context `id`, or null. */
export function rootState(id: u32): RootState | null {
  if (lastRoot != null && id == lastRootId) return lastRoot;
  if (!roots.has(id)) return null;
  const root = roots.get(id);
  lastRootId = id;
  lastRoot = root;
  return root;
}

/** The state of root context `id`, created with `config` if it has none yet. */
export function rootStateOrNew(id: u32, config: FilterConfig): RootState {
  if (!roots.has(id)) setRoot(id, new RootState(config));
  return rootState(id)!;
}

/** Adds root context `id`, starting from `config`. */
export function addRoot(id: u32, config: FilterConfig): void {
  setRoot(id, new RootState(config));
}

function setRoot(id: u32, state: RootState): void {
  roots.set(id, state);
  lastRoot = null;
}

/** Adds stream context `ctx` of root `parent`, reusing a finished stream's state. */
@inline
export function addStream(ctx: u32, parent: u32): void {
  const stream = freeStreams.length > 0 ? freeStreams.pop() : new StreamState();
  stream.root = parent;
  stream.route = null;
  stream.variant = -1;
  stream.llm = null;
  stream.responseBytes = 0;
  stream.startNs = -1;
  streams.set(ctx, stream);
  lastStreamId = ctx;
  lastStream = stream;
}

/** Drops stream context `ctx` (its state goes back to the pool); false if `ctx` is no stream. */
@inline
export function deleteStream(ctx: u32): bool {
  const stream = streamState(ctx);
  if (stream == null) return false;
  streams.delete(ctx);
  lastStream = null;
  stream.route = null;
  if (stream.llm != null) llmDone(stream.llm!);
  stream.llm = null;
  if (freeStreams.length < MAX_FREE_STREAMS) freeStreams.push(stream);
  return true;
}

/** Drops root context `id`; false if it is no root. */
export function deleteRoot(id: u32): bool {
  if (!roots.has(id)) return false;
  roots.delete(id);
  lastRoot = null;
  return true;
}
