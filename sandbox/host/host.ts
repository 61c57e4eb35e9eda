// The host: one VM per worker sharing shared data, stats and timers; the canary run on every
// configuration (host contract §5.1); whole exchanges and streams; failure policies.
import type * as grpc from "@grpc/grpc-js";
import { type ClockSource, HostClock, processClock } from "./clock.js";
import {
  type FailurePolicy,
  type HttpStream,
  type LocalReplyResult,
  newFacts,
  type StreamInfo,
  VmHttpStream,
} from "./http-stream.js";
import { checkExports, checkImports, detectAbi } from "./linker.js";
import { capMemoryPages } from "./memory-cap.js";
import { type Stat, StatsStore } from "./metrics.js";
import type { Headers } from "./pairs.js";
import { SharedStore } from "./shared-data.js";
import { TimerService } from "./timers.js";
import { Vm, type VmEnv, VmStartError } from "./vm.js";
import { type ModuleInfo, readModuleInfo } from "./wasm-binary.js";

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

/** A load failure, worded as Envoy logs it. */
export class HostLoadError extends Error {
  override name = "HostLoadError";
}

const encoder = new TextEncoder();
const bytesOf = (v: string | Uint8Array | undefined): Uint8Array =>
  v === undefined ? new Uint8Array(0) : typeof v === "string" ? encoder.encode(v) : v;

/** Loads the plugin the way Envoy does and returns a running host. */
export async function loadHost(opts: HostOptions): Promise<ProxyWasmHost> {
  const { module, info, namesOnly } = await compile(opts.module);
  const abi = detectAbi(info);
  if ("error" in abi) throw new HostLoadError(abi.error);
  const linkError = checkImports(abi.abi, info.imports) ?? (namesOnly ? undefined : checkExports(info));
  if (linkError) throw new HostLoadError(linkError);
  const host = new Host(opts, module, info);
  host.boot();
  return host;
}

async function compile(
  m: Uint8Array | WebAssembly.Module,
): Promise<{ module: WebAssembly.Module; info: ModuleInfo; namesOnly: boolean }> {
  if (m instanceof WebAssembly.Module) {
    // A compiled module does not expose signatures: check names and kinds only.
    const any = { params: [], results: [] };
    const info: ModuleInfo = {
      imports: WebAssembly.Module.imports(m).map((i) =>
        i.kind === "function"
          ? { module: i.module, name: i.name, kind: "function" as const, type: any }
          : i.kind === "memory"
            ? { module: i.module, name: i.name, kind: "memory" as const, limits: { min: 0 } }
            : { module: i.module, name: i.name, kind: "global" as const },
      ),
      exports: WebAssembly.Module.exports(m).map((e) => ({ name: e.name, kind: e.kind })),
    };
    return { module: m, info, namesOnly: true };
  }
  let info: ModuleInfo;
  try {
    info = readModuleInfo(m);
  } catch (e) {
    throw new HostLoadError(`Failed to load Wasm module: ${(e as Error).message}`);
  }
  try {
    const capped = capMemoryPages(m) as Uint8Array<ArrayBuffer>;
    return { module: await WebAssembly.compile(capped), info, namesOnly: false };
  } catch (e) {
    throw new HostLoadError(`Failed to load Wasm module: ${(e as Error).message}`);
  }
}

interface Worker {
  vm: Vm;
  rootId: number;
}

class Host implements ProxyWasmHost {
  readonly workerCount: number;
  readonly logs: LogEntry[] = [];
  private readonly env: VmEnv;
  private readonly workers: Worker[] = [];
  private readonly clock: HostClock;
  private readonly timers: TimerService;
  private readonly stats = new StatsStore();
  private readonly store = new SharedStore();
  private readonly grpcClients = new Map<string, grpc.Client>();
  private pluginConfig: Uint8Array;
  private readonly policy: FailurePolicy;
  private nextWorker = 0;
  private closed = false;

  constructor(
    private readonly opts: HostOptions,
    module: WebAssembly.Module,
    info: ModuleInfo,
  ) {
    this.workerCount = Math.max(1, opts.workers ?? 1);
    this.policy = opts.failurePolicy ?? "FAIL_CLOSED";
    this.pluginConfig = bytesOf(opts.pluginConfig);
    const mode = opts.timers ?? "real";
    this.clock = opts.clock
      ? new HostClock(opts.clock)
      : mode === "manual"
        ? HostClock.frozen()
        : new HostClock(processClock);
    this.timers = new TimerService(mode, this.clock, (w, root) => this.workers[w]?.vm.tick(root));
    const pluginName = opts.pluginName ?? "default.meshcanary";
    const rootId = opts.rootId ?? "";
    const vmId = opts.vmId ?? "";
    this.env = {
      module,
      info,
      props: {
        pluginName,
        rootId,
        vmId,
        nodeId: opts.node?.id ?? "",
        nodeMetadata: opts.node?.metadata ?? {},
        listenerDirection: opts.listenerDirection ?? 2,
      },
      vmConfig: bytesOf(opts.vmConfig),
      environ: Object.entries(opts.env ?? {}),
      clusters: opts.clusters ?? {},
      grpcClients: this.grpcClients,
      store: this.store,
      stats: this.stats,
      clock: this.clock,
      timers: this.timers,
      logPrefix: [pluginName, rootId, vmId]
        .filter((p) => p !== "")
        .map((p) => ` ${p}`)
        .join(""),
      log: (level, worker, message) => this.log({ level, worker, message }),
      onHostCall: opts.onHostCall,
      notifyQueue: (receiver, token) =>
        this.workers[receiver.worker]?.vm.queueReady(receiver.rootContextId, token),
    };
  }

  private log(e: LogEntry): void {
    this.logs.push(e);
    const max = this.opts.maxLogEntries ?? 10_000;
    if (this.logs.length > max) this.logs.splice(0, this.logs.length - max);
    this.opts.onLog?.(e);
  }

  /**
   * Canary, then one VM per worker with a configured root context, and the main thread's VM (if
   * asked for) after them at index workerCount: ticked and reconfigured like a worker's, never picked.
   */
  boot(): void {
    const canary = this.canary(this.pluginConfig);
    if (canary) throw new HostLoadError(canary);
    const vms = this.workerCount + (this.opts.mainThreadVm ? 1 : 0);
    for (let w = 0; w < vms; w++) {
      const started = this.startWorker(w);
      if ("error" in started) {
        this.shutdownWorkers();
        throw new HostLoadError(started.error);
      }
      this.workers[w] = started;
    }
  }

  private startWorker(w: number): Worker | { error: string } {
    const vm = new Vm(w, this.env);
    try {
      vm.start();
    } catch (e) {
      if (e instanceof VmStartError) return { error: e.message };
      throw e;
    }
    const root = vm.createRoot(this.pluginConfig);
    return "error" in root ? { error: root.error } : { vm, rootId: root.id };
  }

  /** Runs start + configure on a throw-away VM; returns an error text on failure. */
  private canary(config: Uint8Array): string | undefined {
    const vm = new Vm(-1, this.env);
    try {
      vm.start();
      const root = vm.createRoot(config);
      return "error" in root ? root.error : undefined;
    } catch (e) {
      if (e instanceof VmStartError) return e.message;
      throw e;
    } finally {
      vm.grpc.cancelAll();
      vm.http.cancelAll();
      this.timers.cancelWorker(-1);
    }
  }

  configure(pluginConfig: string | Uint8Array): { ok: true } | { ok: false; error: string } {
    const config = bytesOf(pluginConfig);
    const err = this.canary(config);
    if (err) {
      const pluginName = this.env.props.pluginName;
      return { ok: false, error: `Unable to create Wasm HTTP filter ${pluginName}: ${err}` };
    }
    this.pluginConfig = config;
    for (const [w, worker] of this.workers.entries()) {
      // Envoy builds a new plugin for the new config and, finding the thread's VM failed, clones a
      // fresh one: a config update brings a failed worker back under any policy
      // (test/envoy/failure-policy.test.ts).
      if (worker.vm.failed) {
        this.replaceWorker(w);
        continue;
      }
      const old = worker.rootId;
      const root = worker.vm.createRoot(config);
      if ("error" in root) {
        this.log({ level: 4, worker: worker.vm.worker, message: root.error });
        continue;
      }
      worker.rootId = root.id;
      worker.vm.retireRoot(old);
    }
    return { ok: true };
  }

  private pickWorker(worker?: number): Worker {
    const w = worker ?? this.nextWorker++ % this.workerCount;
    const entry = w < this.workerCount ? this.workers[w] : undefined;
    if (!entry) throw new RangeError(`worker ${w} does not exist (workers: ${this.workerCount})`);
    if (entry.vm.failed && this.policy === "FAIL_RELOAD") this.maybeReload(w);
    return this.workers[w]!;
  }

  /** FAIL_RELOAD: once the back-off since the VM's load has passed, replace a failed VM with a fresh one. */
  private maybeReload(w: number): void {
    const backoffNs = BigInt(this.opts.reloadBackoffMs ?? 1000) * 1_000_000n;
    const old = this.workers[w]!;
    // Envoy reloads once the back-off has passed since the VM's last load (test/envoy/failure-policy):
    // a VM that ran longer than that is replaced at the next request after it failed.
    if (this.clock.monotonicNs() - old.vm.loadedAtNs < backoffNs) return;
    this.replaceWorker(w);
  }

  /** Shuts a worker's VM down and starts a fresh one with the current configuration. */
  private replaceWorker(w: number): void {
    this.timers.cancelWorker(w);
    this.workers[w]!.vm.shutdown();
    const started = this.startWorker(w);
    if ("error" in started) {
      this.log({ level: 4, worker: w, message: `Wasm VM reload failed: ${started.error}` });
      return;
    }
    this.workers[w] = started;
  }

  startStream(worker?: number, info?: StreamInfo): HttpStream {
    const w = this.pickWorker(worker);
    return new VmHttpStream(w.vm, w.rootId, this.policy, newFacts(w.vm, info), this.opts.hcmHeaders ?? true);
  }

  request(ex: Exchange, worker?: number): ExchangeResult {
    const w = this.pickWorker(worker);
    const s = new VmHttpStream(
      w.vm,
      w.rootId,
      this.policy,
      newFacts(w.vm, undefined),
      this.opts.hcmHeaders ?? true,
    );
    const reqBody = ex.request.bodyBytes ?? 0;
    const req = s.requestHeaders(ex.request.headers, reqBody === 0);
    const result: ExchangeResult = { requestHeaders: req.headers, worker: w.vm.worker };
    if (req.localReply) {
      result.localReply = req.localReply;
      result.responseHeaders = req.localReply.headers;
      s.complete({ responseFlags: ex.responseFlags, durationNs: ex.durationNs });
      return result;
    }
    if (reqBody > 0) s.requestBody(reqBody, true);
    const res = ex.response;
    if (res?.status !== undefined) {
      const respBody = res.bodyBytes ?? 0;
      const filtered = s.responseHeaders(res.status, res.headers ?? {}, respBody === 0);
      result.responseHeaders = filtered.headers;
      if (filtered.localReply) result.localReply = filtered.localReply;
      else if (respBody > 0) s.responseBody(respBody, true);
    }
    s.complete({
      responseCode: result.localReply?.status ?? res?.status,
      responseFlags: ex.responseFlags,
      durationNs: ex.durationNs,
      upstreamAddress: ex.upstreamAddress,
      clusterName: ex.clusterName,
      routeName: ex.routeName,
    });
    return result;
  }

  async advance(ms: number): Promise<void> {
    if (this.timers.mode === "manual") this.timers.advance(ms);
    // Let queued callout/queue deliveries (setImmediate) run.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  }

  metrics(): Map<string, { type: Stat["type"]; value: number }> {
    const out = new Map<string, { type: Stat["type"]; value: number }>();
    for (const [name, s] of this.stats.stats) out.set(name, { type: s.type, value: s.value });
    return out;
  }

  prometheus(): string {
    return this.stats.prometheus();
  }

  readonly sharedData = {
    get: (key: string, vmId?: string) => this.store.get(vmId ?? this.env.props.vmId, key),
    set: (key: string, value: Uint8Array, cas?: number, vmId?: string) =>
      this.store.set(vmId ?? this.env.props.vmId, key, value, cas ?? 0),
  };

  memoryBytes(worker = 0): number {
    return this.workers[worker]?.vm.mem.size ?? 0;
  }

  failed(worker = 0): boolean {
    return this.workers[worker]?.vm.failed ?? false;
  }

  private shutdownWorkers(): void {
    for (const w of this.workers) w?.vm.shutdown();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shutdownWorkers();
    this.timers.close();
    for (const c of this.grpcClients.values()) c.close();
    this.grpcClients.clear();
  }
}
