// The no-op proxy-wasm filter of bench/envoy-overhead.ts (never part of build/meshcanary.wasm):
// exports the same ABI 0.2.0 callbacks as meshcanary (filter/abi/exports.ts), so Envoy creates the
// same contexts and makes the same calls into the VM per request, and does nothing in them. Its
// added cost over Envoy without Wasm is the floor any Wasm filter pays; meshcanary's goal is a ratio
// to it. No imports at all: abort traps (noop-abort.ts), nothing else reaches the host.

import "./noop-abort";

/** ABI marker Envoy looks for. */
export function proxy_abi_version_0_2_0(): void {}

/** The host's allocator for values it returns (never called here: the module asks for nothing). */
export function malloc(size: usize): usize {
  return heap.alloc(size > 0 ? size : 1);
}

export function proxy_on_context_create(_contextId: u32, _parentId: u32): void {}

export function proxy_on_vm_start(_rootId: u32, _vmConfigSize: u32): u32 {
  return 1;
}

export function proxy_on_configure(_rootId: u32, _pluginConfigSize: u32): u32 {
  return 1;
}

export function proxy_on_request_headers(_contextId: u32, _numHeaders: u32, _endOfStream: u32): u32 {
  return 0;
}

export function proxy_on_response_headers(_contextId: u32, _numHeaders: u32, _endOfStream: u32): u32 {
  return 0;
}

export function proxy_on_log(_contextId: u32): void {}

export function proxy_on_done(_contextId: u32): u32 {
  return 1;
}

export function proxy_on_delete(_contextId: u32): void {}

export function proxy_on_tick(_rootId: u32): void {}
