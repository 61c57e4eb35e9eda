// One VM instance (an Envoy worker thread's copy of the plugin): instantiation, start,
// root/stream contexts, guest calls with trap handling, and the queue that delivers async
// callbacks outside guest calls. The import object is assembled in module-imports.ts, the
// restricted-callback rule in host-call-guard.ts, callout answers in callout-delivery.ts.
import type * as grpc from "@grpc/grpc-js";
import { LogLevel } from "./abi.js";
import { deliverGrpcEvent, deliverHttpCallResult } from "./callout-delivery.js";
import type { HostClock } from "./clock.js";
import type { Context, RootContext, StreamContext } from "./contexts.js";
import { envFunctions } from "./env-imports.js";
import { GrpcCallouts } from "./grpc.js";
import type { HeaderMap } from "./header-map.js";
import { type AnyFn, guardHostFunctions, Restriction } from "./host-call-guard.js";
import { HttpCallouts } from "./http-call.js";
import { instanceImports } from "./module-imports.js";
import { GuestMemory } from "./memory.js";
import { type StatsStore, VmMetrics } from "./metrics.js";
import type { PropertyEnv } from "./properties.js";
import type { QueueReceiver, SharedStore } from "./shared-data.js";
import type { TimerService } from "./timers.js";
import type { ModuleInfo } from "./wasm-binary.js";
import { wasiFunctions } from "./wasi.js";

/** Everything a VM shares with its host and sibling VMs. */
export interface VmEnv {
  module: WebAssembly.Module;
  info: ModuleInfo;
  props: PropertyEnv;
  vmConfig: Uint8Array;
  environ: Array<[string, string]>;
  clusters: Record<string, string>;
  grpcClients: Map<string, grpc.Client>;
  store: SharedStore;
  stats: StatsStore;
  clock: HostClock;
  timers: TimerService;
  /** Envoy's log prefix for proxy_log: " <plugin> <root_id> <vm_id>", empty parts skipped. */
  logPrefix: string;
  log(level: number, worker: number, message: string): void;
  /** Observer of every guest → host call (by import name) and host → guest malloc, e.g. to count them. */
  onHostCall?: (name: string) => void;
  notifyQueue(receiver: QueueReceiver, token: number): void;
}

/** A host function with up to 12 arguments (the widest proxy-wasm import). */
export type HostFn = (...args: never[]) => number | undefined;

/** Thrown by a failed start; the message is Envoy's wording. */
export class VmStartError extends Error {}

/** A guest trap, recorded before the VM is marked failed. */
export interface Trap {
  functionName: string;
  error: unknown;
}

/** One instantiated VM. */
export class Vm {
  readonly contexts = new Map<number, Context>();
  readonly metrics: VmMetrics;
  readonly grpc: GrpcCallouts;
  readonly http: HttpCallouts;
  mem!: GuestMemory;
  restriction: Restriction = Restriction.StartSection;
  failed = false;
  /** When this VM was loaded: Envoy's FAIL_RELOAD back-off counts from it, not from the failure. */
  loadedAtNs = 0n;
  /** The context host calls act on: the callback's context, or one set by proxy_set_effective_context. */
  currentId = 0;
  effectiveId = 0;
  /** Maps readable only inside gRPC / http-call callbacks (types 4–7) and their buffer. */
  calloutMaps: Array<HeaderMap | undefined> = [];
  calloutBuffer?: { type: number; bytes: Uint8Array };
  private exports: Record<string, AnyFn> = {};
  private depth = 0;
  private nextContextId = 1;
  private readonly pending: Array<() => void> = [];
  private flushScheduled = false;

  constructor(
    readonly worker: number,
    readonly env: VmEnv,
  ) {
    this.metrics = new VmMetrics(env.stats);
    this.grpc = new GrpcCallouts(env.clusters, env.grpcClients, (root, ev) =>
      this.enqueue(() => deliverGrpcEvent(this, root, ev)),
    );
    this.http = new HttpCallouts(env.clusters, (root, res) =>
      this.enqueue(() => deliverHttpCallResult(this, root, res)),
    );
  }

  /** Instantiates and runs _initialize/main or _start (host contract §5.2 steps 1–2). */
  start(): void {
    this.loadedAtNs = this.env.clock.monotonicNs();
    const imports = this.buildImports();
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(this.env.module, imports);
    } catch (e) {
      throw new VmStartError(`Failed to load Wasm module: ${errorText(e)}`);
    }
    this.exports = instance.exports as Record<string, AnyFn>;
    const memory = this.memoryObject(instance);
    const alloc = this.exports.malloc ?? this.exports.proxy_on_memory_allocate!;
    this.mem = new GuestMemory(memory, (size) => this.malloc(alloc, size));
    this.restriction = Restriction.Initialize;
    try {
      if (this.exports._initialize) {
        this.callStart("_initialize", []);
        if (this.exports.main) this.callStart("main", [0, 0]);
        else if (this.exports.__main_void) this.callStart("__main_void", []);
      } else if (this.exports._start) {
        this.callStart("_start", []);
      }
    } finally {
      this.restriction = Restriction.None;
    }
  }

  private memoryObject(instance: WebAssembly.Instance): WebAssembly.Memory {
    const exported = instance.exports.memory;
    if (exported instanceof WebAssembly.Memory) return exported;
    if (this.importedMemory) return this.importedMemory;
    throw new VmStartError("Failed to load Wasm module: no memory exported");
  }

  private importedMemory?: WebAssembly.Memory;

  private callStart(name: string, args: number[]): void {
    try {
      this.exports[name]!(...args);
    } catch (e) {
      this.markFailed(name, e);
      throw new VmStartError(`Function: ${name} failed: ${errorText(e)}`);
    }
  }

  private malloc(alloc: AnyFn, size: number): number {
    this.env.onHostCall?.("malloc");
    const saved = this.restriction;
    this.restriction = Restriction.Malloc;
    try {
      return alloc(size) as number;
    } finally {
      this.restriction = saved;
    }
  }

  /**
   * The monotonic clock as a stream's callbacks read it: its request headers arrive at the stream's
   * start and its on_log runs at start + its duration (the one a test gave, or the time it took), the
   * two points Envoy's `request.duration` spans; elsewhere the host clock. So a filter timing a
   * request with two clock reads sees exactly the duration a test asked for.
   */
  private streamMonotonicNs(): bigint {
    const f = this.stream()?.facts;
    const phase = this.stream()?.phase;
    if (f && phase === "request_headers") return f.startMonotonicNs;
    if (f && phase === "log" && f.durationNs !== undefined) return f.startMonotonicNs + f.durationNs;
    return this.env.clock.monotonicNs();
  }

  private buildImports(): WebAssembly.Imports {
    const observe = this.env.onHostCall;
    const env = guardHostFunctions(envFunctions(this), this, observe);
    const wasi = guardHostFunctions(
      wasiFunctions({
        memory: () => this.mem,
        log: (level, message) => this.env.log(level, this.worker, message),
        environ: this.env.environ,
        realtimeNs: () => this.env.clock.realtimeNs(),
        monotonicNs: () => this.streamMonotonicNs(),
      }),
      this,
      observe,
    );
    const { imports, importedMemory } = instanceImports(this.env.info, env, wasi);
    this.importedMemory = importedMemory;
    return imports;
  }

  has(name: string): boolean {
    return this.exports[name] !== undefined;
  }

  /**
   * Calls a guest export on a context. Returns the i32 result (0 for void), or undefined if the
   * VM has failed or the call trapped (the VM is then marked failed).
   */
  invoke(name: string, contextId: number, a = 0, b = 0, c = 0, d = 0): number | undefined {
    if (this.failed) return undefined;
    const f = this.exports[name];
    if (!f) return 0;
    const savedCurrent = this.currentId;
    const savedEffective = this.effectiveId;
    this.currentId = contextId;
    this.effectiveId = 0;
    this.depth++;
    try {
      return (f(contextId, a, b, c, d) as number | undefined) ?? 0;
    } catch (e) {
      this.markFailed(name, e);
      return undefined;
    } finally {
      this.depth--;
      this.currentId = savedCurrent;
      this.effectiveId = savedEffective;
    }
  }

  private markFailed(name: string, e: unknown): void {
    if (!this.failed) {
      this.failed = true;
      this.env.log(LogLevel.error, this.worker, `Function: ${name} failed: ${errorText(e)}`);
    }
  }

  /** The context host calls act on now. */
  context(): Context | undefined {
    return this.contexts.get(this.effectiveId || this.currentId);
  }

  stream(): StreamContext | undefined {
    const c = this.context();
    return c?.kind === "stream" ? c : undefined;
  }

  /** The root context of the current context. */
  root(): RootContext | undefined {
    const c = this.context();
    if (!c) return undefined;
    const r = this.contexts.get(c.kind === "root" ? c.id : c.rootId);
    return r?.kind === "root" ? r : undefined;
  }

  newContextId(): number {
    return this.nextContextId++;
  }

  /**
   * Creates and configures a root context (§5.2 step 3). Returns its id, or an error text when
   * on_vm_start/on_configure returned 0 or trapped.
   */
  createRoot(pluginConfig: Uint8Array): { id: number } | { error: string } {
    const id = this.newContextId();
    const root: RootContext = {
      kind: "root",
      id,
      pluginConfig,
      configuring: true,
      pendingDone: false,
      status: { code: 0, message: "" },
    };
    this.contexts.set(id, root);
    try {
      if (this.invoke("proxy_on_context_create", id, 0) === undefined) return { error: this.failText() };
      const started = this.invoke("proxy_on_vm_start", id, this.env.vmConfig.length);
      if (started === undefined) return { error: this.failText() };
      if (this.has("proxy_on_vm_start") && started === 0)
        return { error: "Failed to start base Wasm VM (on_vm_start returned 0)" };
      const configured = this.invoke("proxy_on_configure", id, pluginConfig.length);
      if (configured === undefined) return { error: this.failText() };
      if (this.has("proxy_on_configure") && configured === 0) {
        return { error: "Failed to configure base Wasm plugin (on_configure returned 0)" };
      }
      return { id };
    } finally {
      root.configuring = false;
    }
  }

  private failText(): string {
    return "Wasm VM failed (trap during start/configure)";
  }

  /** Shuts a root context down: on_done, then on_delete now or after proxy_done. */
  retireRoot(id: number, force = false): void {
    const root = this.contexts.get(id);
    if (root?.kind !== "root") return;
    this.env.timers.cancel(this.worker, id);
    this.grpc.cancelRoot(id);
    const done = this.invoke("proxy_on_done", id);
    if (done === 0 && this.has("proxy_on_done") && !force) {
      root.pendingDone = true;
      return;
    }
    this.deleteContext(id);
  }

  /** Runs on_delete and forgets the context. */
  deleteContext(id: number): void {
    this.invoke("proxy_on_delete", id);
    this.contexts.delete(id);
  }

  /** Roots still waiting for proxy_done are deleted when it arrives. */
  finishPendingDone(root: RootContext): void {
    root.pendingDone = false;
    this.enqueue(() => this.deleteContext(root.id));
  }

  tick(rootId: number): void {
    if (this.contexts.has(rootId)) this.invoke("proxy_on_tick", rootId);
  }

  queueReady(rootId: number, token: number): void {
    this.enqueue(() => {
      if (this.contexts.has(rootId)) this.invoke("proxy_on_queue_ready", rootId, token);
    });
  }

  /** Runs a callback once no guest call is in progress (never re-entrantly). */
  enqueue(fn: () => void): void {
    this.pending.push(fn);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.depth > 0) {
      this.enqueue(() => {});
      return;
    }
    while (this.pending.length) this.pending.shift()!();
  }

  /** True while deliveries are queued (advance() waits for them). */
  get busy(): boolean {
    return this.pending.length > 0;
  }

  /** Force-closes everything: roots get on_done/on_delete, callouts are cancelled. */
  shutdown(): void {
    this.grpc.cancelAll();
    this.http.cancelAll();
    this.env.timers.cancelWorker(this.worker);
    for (const c of [...this.contexts.values()]) if (c.kind === "root") this.retireRoot(c.id, true);
    this.pending.length = 0;
  }
}

/** "Uncaught RuntimeError: unreachable" as V8 reports a trap. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return `Uncaught ${e.name}: ${e.message}`;
  return `Uncaught ${String(e)}`;
}
