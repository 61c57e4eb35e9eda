// Shared pieces of the stream tests: the real filter in the sandbox host, the real telemetry server,
// a TCP relay that can drop connections, bounded waits (no fixed sleeps as assertions), and the
// afterEach that closes what a test opened.
import { createServer, type Server, type Socket, connect } from "node:net";
import { fromBinary } from "@bufbuild/protobuf";
import { afterEach } from "vitest";
import { type Report, ReportSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { startTelemetryServer, type TelemetryServer } from "../../controller/telemetry/index.js";
import type { VariantStats } from "../../controller/telemetry/types.js";
import { type ClockSource, loadHost, type ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterWasm } from "../filter/filter-wasm.js";

export const CANARY = "default/reviews";
export const CLUSTER = "outbound|9090||meshcanary-controller.meshcanary-system.svc.cluster.local";
export const INTERVAL_MS = 1000;

/** Plugin configuration with one route (stable 90% / canary 10%) and reporting to CLUSTER. */
export function pluginConfig(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    controller: { cluster: CLUSTER, intervalMs: INTERVAL_MS, ...extra },
    routes: [
      {
        host: "reviews.default.svc.cluster.local",
        canary: CANARY,
        variants: [
          { name: "stable", weight: 9000 },
          { name: "canary", weight: 1000 },
        ],
      },
    ],
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits (real time, bounded) until `cond` holds. */
export async function waitFor(cond: () => boolean, what: string, maxMs = 5000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** One report interval on the manual clock, then a moment of real time for gRPC to move. */
export async function step(h: ProxyWasmHost, ms = INTERVAL_MS): Promise<void> {
  await h.advance(ms);
  await sleep(25);
}

/** Steps intervals until `cond` holds (bounded); returns how many steps it took. */
export async function stepUntil(
  h: ProxyWasmHost,
  cond: () => boolean,
  what: string,
  max = 60,
): Promise<number> {
  for (let i = 0; i < max; i++) {
    if (cond()) return i;
    await step(h);
  }
  if (cond()) return max;
  throw new Error(`not reached within ${max} intervals: ${what}`);
}

export async function newHost(
  port: number,
  opts: {
    workers?: number;
    config?: string;
    pod?: string;
    env?: Record<string, string>;
    /** The controller cluster's endpoints instead of `port`, e.g. "127.0.0.1:1,127.0.0.1:2". */
    endpoints?: string;
    /** The host clock (default: frozen, moved by advance()). */
    clock?: ClockSource;
  } = {},
): Promise<ProxyWasmHost> {
  return loadHost({
    module: filterModule(),
    workers: opts.workers ?? 3,
    pluginConfig: opts.config ?? pluginConfig(),
    clusters: { [CLUSTER]: opts.endpoints ?? `127.0.0.1:${port}` },
    node: {
      metadata: { NAME: opts.pod ?? "reviews-7d9f-abcde", NAMESPACE: "default", WORKLOAD_NAME: "reviews" },
    },
    env: opts.env,
    timers: "manual",
    clock: opts.clock,
  });
}

let wasm: Uint8Array | undefined;

/** build/meshcanary.wasm, built once per test file. */
function filterModule(): Uint8Array {
  if (!wasm) wasm = filterWasm();
  return wasm;
}

export async function startServer(port = 0, token?: string): Promise<TelemetryServer> {
  return startTelemetryServer({
    address: `127.0.0.1:${port}`,
    isKnownCanary: (id) => id === CANARY,
    token,
  });
}

/** A request pinned to `variant` on `worker`, answered with `status` (undefined = no response). */
export function drive(
  h: ProxyWasmHost,
  worker: number,
  variant: string,
  status: number | undefined,
  ns: number,
): void {
  h.request(
    {
      request: {
        headers: [
          [":authority", "reviews"],
          ["x-meshcanary-pin", variant],
        ],
      },
      response: status === undefined ? undefined : { status, bodyBytes: 10 },
      responseFlags: status === undefined ? 0x20 : 0,
      durationNs: ns,
    },
    worker,
  );
}

/** What the controller holds for one variant, summed over all windows. */
export interface Totals {
  requests: number;
  failures: number;
  status2xx: number;
  status5xx: number;
  statusNone: number;
  latencyCount: number;
}

/** All counts zero. */
export function emptyTotals(): Totals {
  return { requests: 0, failures: 0, status2xx: 0, status5xx: 0, statusNone: 0, latencyCount: 0 };
}

export function controllerTotals(server: Pick<TelemetryServer, "reader">, variant: string): Totals {
  const out = emptyTotals();
  for (const w of server.reader.series(CANARY, 0, Number.MAX_SAFE_INTEGER)) {
    const s: VariantStats | undefined = w.variants.get(variant);
    if (!s) continue;
    out.requests += s.requests;
    out.failures += s.failures;
    out.status2xx += s.status2xx;
    out.status5xx += s.status5xx;
    out.statusNone += s.statusNone;
    out.latencyCount += Number(s.latencyUs.count);
  }
  return out;
}

/** The proxy state the workers share (`meshcanary.state`: flags byte + protobuf Report). */
export function sharedState(h: ProxyWasmHost): Report | undefined {
  const e = h.sharedData.get("meshcanary.state");
  return e ? fromBinary(ReportSchema, e.value.subarray(1)) : undefined;
}

/** The worker that most recently opened the controller stream (from its debug log line). */
export function streamWorker(h: ProxyWasmHost): number {
  const opened = h.logs.filter((l) => l.message.includes("controller stream opened"));
  return opened.length ? opened[opened.length - 1]!.worker : -1;
}

/** A TCP relay in front of the controller whose connections can be cut (a dropped stream). */
export class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async start(target: number): Promise<void> {
    this.server = createServer((down) => {
      const up = connect(target, "127.0.0.1");
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => {
          this.sockets.delete(s);
          down.destroy();
          up.destroy();
        });
      }
      down.pipe(up);
      up.pipe(down);
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    const addr = this.server.address();
    this.port = typeof addr === "object" && addr ? addr.port : 0;
  }

  /** Cuts every open connection (both directions). */
  drop(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    return n;
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** A port that nothing listens on (bound then released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const addr = s.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** What a test opened, to push onto; all of it is closed after each test. */
export interface Opened {
  hosts: ProxyWasmHost[];
  servers: TelemetryServer[];
  /** Relays in front of the controller: Relay above, or sandbox/fault-relay's FaultRelay. */
  relays: { close(): Promise<void> }[];
}

/** Registers the afterEach that closes what each test opened (hosts, then servers, then relays). */
export function closedAfterEach(): Opened {
  const opened: Opened = { hosts: [], servers: [], relays: [] };
  afterEach(async () => {
    for (const h of opened.hosts.splice(0)) await h.close();
    for (const s of opened.servers.splice(0)) await s.close();
    for (const r of opened.relays.splice(0)) await r.close();
  });
  return opened;
}
