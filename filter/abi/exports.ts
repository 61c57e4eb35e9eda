// The proxy-wasm ABI 0.2.0 callbacks with Envoy's exact signatures (host contract §1.5). They only
// dispatch: context lifecycle, configuration, tick and the controller stream to filter/lifecycle.ts,
// the request to filter/request-routing.ts, the response and on_log to filter/response-tally.ts.
// Return values follow §1.5 (0 = Continue for header callbacks).

import { hostMalloc } from "./memory";
import * as lifecycle from "../lifecycle";
import * as request from "../request-routing";
import * as response from "../response-tally";

/** ABI marker Envoy looks for. */
export function proxy_abi_version_0_2_0(): void {}

/** The host's allocator for values it returns; the guest frees them after reading (abi/memory.ts). */
export function malloc(size: usize): usize {
  return hostMalloc(size);
}

export function proxy_on_context_create(contextId: u32, parentId: u32): void {
  lifecycle.onContextCreate(contextId, parentId);
}

export function proxy_on_vm_start(_rootId: u32, _vmConfigSize: u32): u32 {
  return lifecycle.onVmStart() ? 1 : 0;
}

export function proxy_on_configure(rootId: u32, pluginConfigSize: u32): u32 {
  return lifecycle.onConfigure(rootId, pluginConfigSize) ? 1 : 0;
}

export function proxy_on_request_headers(contextId: u32, _numHeaders: u32, _endOfStream: u32): u32 {
  return request.onRequestHeaders(contextId);
}

/** Metric headers are read in on_log (contract §3.2); LLM routes read the content type here. */
export function proxy_on_response_headers(contextId: u32, _numHeaders: u32, _endOfStream: u32): u32 {
  return response.onResponseHeaders(contextId);
}

/** LLM routes scan the body as it passes (docs/llm.md); 0 = Continue, always. */
export function proxy_on_response_body(contextId: u32, bodySize: u32, _endOfStream: u32): u32 {
  return response.onResponseBody(contextId, bodySize);
}

export function proxy_on_log(contextId: u32): void {
  response.onLog(contextId);
}

// No proxy_on_done: the filter has nothing to finish (Envoy then treats every context as done at
// once), and an export would cost a call into the VM on every request.

export function proxy_on_delete(contextId: u32): void {
  lifecycle.onDelete(contextId);
}

export function proxy_on_tick(rootId: u32): void {
  lifecycle.onTick(rootId);
}

// gRPC callbacks of the controller stream; metadata carries nothing the filter needs.
export function proxy_on_grpc_receive_initial_metadata(_rootId: u32, _token: u32, _numHeaders: u32): void {}
export function proxy_on_grpc_receive(rootId: u32, token: u32, messageSize: u32): void {
  lifecycle.onGrpcReceive(rootId, token, messageSize);
}
export function proxy_on_grpc_receive_trailing_metadata(_rootId: u32, _token: u32, _numTrailers: u32): void {}
export function proxy_on_grpc_close(rootId: u32, token: u32, statusCode: u32): void {
  lifecycle.onGrpcClose(rootId, token, statusCode);
}
