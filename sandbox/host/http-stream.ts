// One HTTP stream through the filter on a VM, in Envoy's order (host contract §5.3):
// on_context_create → on_request_headers → [bodies] → on_response_headers → [bodies]
// → on_log → on_done → on_delete, with local replies and fail-closed/fail-open handling.
import { randomUUID } from "node:crypto";
import type { LocalReply, StreamContext, StreamFacts } from "./contexts.js";
import { HeaderMap } from "./header-map.js";
import type { Headers } from "./pairs.js";
import type { Vm } from "./vm.js";

/** Where a stream came from. */
export interface StreamInfo {
  protocol?: "HTTP/1.1" | "HTTP/2";
  sourceAddress?: string;
  destinationAddress?: string;
}

/** A reply sent instead of forwarding: the filter's send_local_response, or 503 wasm_fail_stream. */
export interface LocalReplyResult {
  status: number;
  details: string;
  body: Uint8Array;
  /** Final response headers after the filter's on_response_headers (":status" first). */
  headers: Headers;
}

/** The end-of-stream facts for on_log. */
export interface StreamCompletion {
  responseCode?: number;
  responseFlags?: number;
  durationNs?: bigint | number;
  requestBytes?: number;
  responseBytes?: number;
  upstreamAddress?: string;
  clusterName?: string;
  routeName?: string;
}

/** Streaming form for a real proxy: the caller does the upstream call between the phases. */
export interface HttpStream {
  requestHeaders(
    headers: Headers | Record<string, string>,
    endOfStream: boolean,
  ): { action: "continue" | "stop"; headers: Headers; localReply?: LocalReplyResult };
  /** Optional: request body bytes (or a size, sent as zero bytes). */
  requestBody(body: Uint8Array | number, endOfStream: boolean): { action: "continue" | "stop" };
  /** A localReply here replaces the upstream's response (the VM failed while the stream was in flight). */
  responseHeaders(
    status: number | undefined,
    headers: Headers | Record<string, string>,
    endOfStream: boolean,
  ): { action: "continue" | "stop"; headers: Headers; localReply?: LocalReplyResult };
  responseBody(body: Uint8Array | number, endOfStream: boolean): { action: "continue" | "stop" };
  complete(final: StreamCompletion): void;
}

/** How the host treats a failed VM. */
export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

const FAIL_DETAILS = "wasm_fail_stream";

/** Builds the facts a new stream starts with. */
export function newFacts(vm: Vm, info: StreamInfo | undefined): StreamFacts {
  return {
    protocol: info?.protocol ?? "HTTP/1.1",
    sourceAddress: info?.sourceAddress ?? "127.0.0.1:50000",
    destinationAddress: info?.destinationAddress ?? "127.0.0.1:15001",
    startRealtimeNs: vm.env.clock.realtimeNs(),
    startMonotonicNs: vm.env.clock.monotonicNs(),
    responseFlags: 0,
    requestBodyBytes: 0,
    responseBodyBytes: 0,
    complete: false,
  };
}

/** HttpStream bound to one VM and root context. */
export class VmHttpStream implements HttpStream {
  private ctx?: StreamContext;
  /** The filter is bypassed (FAIL_OPEN with a failed VM). */
  private skipped: boolean;
  private failReply = false;
  /** A failure reply is being sent: its own response headers must not trigger another. */
  private replying = false;
  private completed = false;

  constructor(
    private readonly vm: Vm,
    private readonly rootId: number,
    policy: FailurePolicy,
    private readonly facts: StreamFacts,
    private readonly hcmHeaders: boolean,
  ) {
    this.skipped = vm.failed && policy === "FAIL_OPEN";
  }

  private get active(): boolean {
    return !this.skipped && !this.vm.failed;
  }

  /** Creates the stream context and runs on_context_create (lazily, once). */
  private context(requestHeaders: HeaderMap): StreamContext {
    if (this.ctx) return this.ctx;
    const id = this.vm.newContextId();
    this.ctx = {
      kind: "stream",
      id,
      rootId: this.rootId,
      phase: "idle",
      requestHeaders,
      requestHeadersHeld: false,
      responseHeadersHeld: false,
      requestBody: new Uint8Array(0),
      responseBody: new Uint8Array(0),
      facts: this.facts,
      filterState: new Map(),
      continueRequested: false,
      closeRequested: false,
    };
    this.vm.contexts.set(id, this.ctx);
    if (this.active) this.vm.invoke("proxy_on_context_create", id, this.rootId);
    return this.ctx;
  }

  /** Runs a header/body callback; returns "stop" for a non-zero result or a pending local reply. */
  private run(name: string, phase: StreamContext["phase"], a: number, b: number): "continue" | "stop" {
    const ctx = this.ctx!;
    if (!this.active) return this.onFailed();
    ctx.phase = phase;
    const r = this.vm.invoke(name, ctx.id, a, b);
    ctx.phase = "idle";
    if (r === undefined) return this.onFailed();
    const stop = (r !== 0 && !ctx.continueRequested) || ctx.localReply !== undefined;
    ctx.continueRequested = false;
    return stop ? "stop" : "continue";
  }

  /**
   * The VM trapped or had failed. Only a stream that began after the failure skips the filter under
   * FAIL_OPEN; the trapping stream and those already in flight get 503, whatever the policy (as
   * Envoy does: test/envoy/failure-policy.test.ts).
   */
  private onFailed(): "continue" | "stop" {
    if (this.skipped) return "continue";
    this.failReply = true;
    return "stop";
  }

  requestHeaders(headers: Headers | Record<string, string>, endOfStream: boolean) {
    const map = HeaderMap.from(headers);
    if (this.hcmHeaders) addHcmHeaders(map);
    const ctx = this.context(map);
    ctx.requestHeadersHeld = true;
    const action = this.run("proxy_on_request_headers", "request_headers", map.size, endOfStream ? 1 : 0);
    if (action === "continue") ctx.requestHeadersHeld = false;
    const localReply = this.pendingReply();
    return { action, headers: map.toList(), localReply };
  }

  /** Sends the filter's (or the failure) local reply through on_response_headers. */
  private pendingReply(): LocalReplyResult | undefined {
    const ctx = this.ctx!;
    if (this.failReply) {
      ctx.requestHeadersHeld = false;
      return this.sendReply(
        { status: 503, details: FAIL_DETAILS, body: new Uint8Array(0), headers: [] },
        false,
      );
    }
    if (!ctx.localReply) return undefined;
    ctx.requestHeadersHeld = false;
    return this.sendReply(ctx.localReply, this.active);
  }

  private sendReply(reply: LocalReply, throughFilter: boolean): LocalReplyResult {
    const ctx = this.ctx!;
    ctx.localReply = undefined;
    ctx.facts.codeDetails = reply.details;
    const headers: Headers = [[":status", String(reply.status)], ...reply.headers];
    if (reply.body.length) {
      headers.push(["content-length", String(reply.body.length)], ["content-type", "text/plain"]);
    }
    if (reply.grpcStatus !== undefined) headers.push(["grpc-status", String(reply.grpcStatus)]);
    const final = throughFilter
      ? this.responseHeaders(reply.status, headers, reply.body.length === 0).headers
      : headers;
    ctx.facts.responseCode = reply.status;
    ctx.facts.codeDetails = reply.details;
    ctx.facts.responseBodyBytes = reply.body.length;
    return { status: reply.status, details: reply.details, body: reply.body, headers: final };
  }

  requestBody(body: Uint8Array | number, endOfStream: boolean) {
    const ctx = this.context(new HeaderMap());
    const bytes = typeof body === "number" ? zeroBody(body) : body;
    const merged = new Uint8Array(ctx.requestBody.length + bytes.length);
    merged.set(ctx.requestBody);
    merged.set(bytes, ctx.requestBody.length);
    ctx.requestBody = merged;
    ctx.facts.requestBodyBytes += bytes.length;
    const action = this.run("proxy_on_request_body", "request_body", merged.length, endOfStream ? 1 : 0);
    if (action === "continue") ctx.requestBody = new Uint8Array(0);
    return { action };
  }

  responseHeaders(
    status: number | undefined,
    headers: Headers | Record<string, string>,
    endOfStream: boolean,
  ) {
    const ctx = this.context(new HeaderMap());
    const map = HeaderMap.from(headers);
    if (status !== undefined && map.get(":status") === undefined) map.add(":status", String(status));
    ctx.responseHeaders = map;
    ctx.responseHeadersHeld = true;
    if (status !== undefined) {
      ctx.facts.responseCode = status;
      ctx.facts.codeDetails ??= "via_upstream";
    }
    const action = this.run("proxy_on_response_headers", "response_headers", map.size, endOfStream ? 1 : 0);
    if (action === "continue") ctx.responseHeadersHeld = false;
    if (this.failReply && !this.replying) {
      // Envoy answers a stream whose VM failed while it was in flight with 503 at response headers.
      this.replying = true;
      const localReply = this.sendReply(
        { status: 503, details: FAIL_DETAILS, body: new Uint8Array(0), headers: [] },
        false,
      );
      return { action: "stop" as const, headers: localReply.headers, localReply };
    }
    return { action, headers: map.toList() };
  }

  /**
   * As Envoy: after Continue the filter saw this chunk only; after a stop (buffering) the next call
   * reports the cumulative buffered body, and the caller holds the bytes until a Continue.
   */
  responseBody(body: Uint8Array | number, endOfStream: boolean) {
    const ctx = this.context(new HeaderMap());
    const bytes = typeof body === "number" ? zeroBody(body) : body;
    const merged = ctx.responseBody.length === 0 ? bytes : concat(ctx.responseBody, bytes);
    ctx.responseBody = merged;
    ctx.facts.responseBodyBytes += bytes.length;
    const action = this.run("proxy_on_response_body", "response_body", merged.length, endOfStream ? 1 : 0);
    if (action === "continue") ctx.responseBody = new Uint8Array(0);
    return { action };
  }

  complete(final: StreamCompletion): void {
    if (this.completed) return;
    this.completed = true;
    const ctx = this.context(new HeaderMap());
    const f = ctx.facts;
    if (final.responseCode !== undefined) f.responseCode = final.responseCode;
    f.responseFlags = final.responseFlags ?? f.responseFlags;
    if (final.requestBytes !== undefined) f.requestBodyBytes = final.requestBytes;
    if (final.responseBytes !== undefined) f.responseBodyBytes = final.responseBytes;
    f.upstreamAddress = final.upstreamAddress ?? f.upstreamAddress;
    f.clusterName = final.clusterName ?? f.clusterName;
    f.routeName = final.routeName ?? f.routeName;
    f.durationNs =
      final.durationNs !== undefined
        ? BigInt(final.durationNs)
        : this.vm.env.clock.monotonicNs() - f.startMonotonicNs;
    f.complete = true;
    // Envoy keeps the header maps for the access log: readable (not mutable) in on_log.
    ctx.requestHeadersHeld = true;
    ctx.responseHeadersHeld = ctx.responseHeaders !== undefined;
    if (this.active) {
      ctx.phase = "log";
      this.vm.invoke("proxy_on_log", ctx.id);
      ctx.phase = "done";
      this.vm.invoke("proxy_on_done", ctx.id);
      this.vm.invoke("proxy_on_delete", ctx.id);
    }
    this.vm.contexts.delete(ctx.id);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const ZEROS = new Uint8Array(64 * 1024);

/**
 * `size` zero bytes for a body given as a size: up to 64 KiB, views of one shared buffer (body
 * buffers are only ever replaced, never written in place), so a request allocates no body.
 */
function zeroBody(size: number): Uint8Array {
  return size <= ZEROS.length ? ZEROS.subarray(0, size) : new Uint8Array(size);
}

/** Envoy's HCM adds these before any filter runs (when absent). */
function addHcmHeaders(map: HeaderMap): void {
  if (map.get("x-forwarded-proto") === undefined) map.add("x-forwarded-proto", map.get(":scheme") ?? "http");
  if (map.get("x-request-id") === undefined) map.add("x-request-id", randomUUID());
}
