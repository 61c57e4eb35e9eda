// What the sandbox host offers its users (tests, the sidecar, benchmarks): how to load a plugin,
// one HTTP exchange and its result, and the running host. host.ts implements it; callers import it
// from sandbox/host/index.ts.
import type { ClockSource } from "./clock.js";
import type { FailurePolicy, HttpStream, LocalReplyResult, StreamInfo } from "./http-stream.js";
import type { Headers } from "./pairs.js";

/** How to load and run the plugin. */
export interface HostOptions {
  /** The module bytes (preferred: signatures are checked) or a compiled module (names only). */
  module: Uint8Array | WebAssembly.Module;
  /** VM instances = Envoy worker threads (default 1). */
  workers?: number;
  /** Envoy plugin name (Istio: "<ns>.<WasmPlugin name>"); default "default.meshcanary". */
  pluginName?: string;
  /** Envoy root_id (Istio: spec.pluginName); default "". */
  rootId?: string;
  /** Envoy vm_id (Istio: never set); default "". */
  vmId?: string;
  /** PLUGIN_CONFIGURATION bytes; absent/empty = size 0. */
  pluginConfig?: string | Uint8Array;
  /** VM_CONFIGURATION bytes. */
  vmConfig?: string | Uint8Array;
  /** vmConfig.env → WASI environ. */
  env?: Record<string, string>;
  /** xds.node. */
  node?: { id?: string; metadata?: Record<string, string> };
  /** Envoy cluster name → "127.0.0.1:port" for gRPC/HTTP callouts; gRPC also takes "ip:port,ip:port" (per-stream round robin). */
  clusters?: Record<string, string>;
  /** Default FAIL_CLOSED (Istio's FAIL_CLOSE). */
  failurePolicy?: FailurePolicy;
  /** "real" (event loop, default) or "manual" (advance()). */
  timers?: "real" | "manual";
  /** Host clock; in manual mode it is frozen unless given, and advance() moves it. */
  clock?: ClockSource;
  /** xds.listener_direction: 1 inbound, 2 outbound (default, WasmPlugin mode CLIENT). */
  listenerDirection?: number;
  /** Add x-forwarded-proto / x-request-id like Envoy's HCM (default true). */
  hcmHeaders?: boolean;
  /** Backoff before FAIL_RELOAD re-creates a failed VM (default 1000 ms). */
  reloadBackoffMs?: number;
  /** Most recent log entries kept in `logs` (default 10000). */
  maxLogEntries?: number;
  onLog?: (e: LogEntry) => void;
  /**
   * Also run the plugin in a VM for Envoy's main thread: configured and ticking like a worker's
   * (Envoy 1.36/1.40 tick it: test/envoy/host-limits.test.ts) but never given a request. Off by
   * default so unit tests see exactly one VM per worker; the sandbox data plane turns it on.
   */
  mainThreadVm?: boolean;
  /** Called with each host function the guest calls, and "malloc" for each allocation the host asks of it. */
  onHostCall?: (name: string) => void;
}

/** One log line as Envoy would emit it. */
export interface LogEntry {
  level: number;
  worker: number;
  message: string;
}

/** One whole HTTP exchange for request(). */
export interface Exchange {
  request: { headers: Headers | Record<string, string>; bodyBytes?: number };
  /** Upstream response; omit status for "no response" (e.g. reset, connection failure). */
  response?: { status?: number; headers?: Headers | Record<string, string>; bodyBytes?: number };
  /** Envoy response.flags bit vector (see ResponseFlag). */
  responseFlags?: number;
  /** request.duration reported in on_log (default: measured). */
  durationNs?: bigint | number;
  upstreamAddress?: string;
  clusterName?: string;
  routeName?: string;
}

/** What happened to an exchange. */
export interface ExchangeResult {
  /** Request headers as forwarded upstream (after the filter's mutations). */
  requestHeaders: Headers;
  /** The filter's send_local_response, or 503 wasm_fail_stream. */
  localReply?: LocalReplyResult;
  /** Response headers after the filter. */
  responseHeaders?: Headers;
  worker: number;
}

/** The sandbox's Envoy. */
export interface ProxyWasmHost {
  readonly workerCount: number;
  /** New plugin configuration: canary first; a NACK keeps the old configuration running. */
  configure(pluginConfig: string | Uint8Array): { ok: true } | { ok: false; error: string };
  /** Runs one whole HTTP exchange through the filter on a worker (round-robin if omitted). */
  request(ex: Exchange, worker?: number): ExchangeResult;
  /** Streaming form for a real proxy. */
  startStream(worker?: number, info?: StreamInfo): HttpStream;
  /** Manual timers: advance the clock, fire due ticks, let pending callbacks run. */
  advance(ms: number): Promise<void>;
  /** Stats keyed by Envoy stat name "wasmcustom.<name>" (histogram value = sample count). */
  metrics(): Map<string, { type: "counter" | "gauge" | "histogram"; value: number }>;
  prometheus(): string;
  readonly sharedData: {
    get(key: string, vmId?: string): { value: Uint8Array; cas: number } | undefined;
    set(key: string, value: Uint8Array, cas?: number, vmId?: string): number;
  };
  readonly logs: LogEntry[];
  memoryBytes(worker?: number): number;
  failed(worker?: number): boolean;
  /** on_done/on_delete for roots, close gRPC, stop timers. */
  close(): Promise<void>;
}
