/**
 * The real-Envoy set-up shared by the envoy-overhead and envoy-memory benchmarks: a client sidecar
 * configured as Istio configures one (sandbox/envoy) in one of three forms — without Wasm, with the
 * no-op AssemblyScript filter (build/bench/noop-filter.wasm), with meshcanary (a 90/10 canaried
 * route with a sticky header, reporting every second to our real telemetry server) — in front of a
 * second Envoy answering every request itself (direct_response): an upstream in C++ that costs
 * little and takes nothing from the measured process, unlike a Node server on the same two cores.
 * Its two listeners are the stable and canary endpoints, so the upstreams' counts show the split.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { startTelemetryServer, type TelemetryServer } from "../controller/telemetry/index.js";
import { httpListener, ROUTER_FILTER, type WasmFilterSpec } from "../sandbox/envoy/bootstrap.js";
import { type EnvoyProcess, startEnvoyProcess } from "../sandbox/envoy/envoy-process.js";
import { type EnvoySidecar, startEnvoySidecar } from "../sandbox/envoy/envoy-sidecar.js";
import { type MeshView, staticCluster } from "../sandbox/envoy/istio-xds.js";
import { BENCH_ROUTE, bareModule } from "./filter-cost.js";

export const HOST = BENCH_ROUTE.host;
const PORT = 9080;
const VARIANT = "x-meshcanary-variant";
const CONTROLLER_CLUSTER = "outbound|9090||meshcanary-controller.meshcanary-system.svc.cluster.local";
const TOKEN = "bench-token";
export const NOOP_WASM = "build/bench/noop-filter.wasm";
export const MESHCANARY_WASM = "build/meshcanary.wasm";

export const BARE_WASM = "build/bench/bare.wasm";

/**
 * The sidecars compared; "compare" is meshcanary's configuration on another build of the module
 * (ENVOY_OVERHEAD_COMPARE), "probe" a module of bench/envoy-host-calls.ts.
 */
export type SidecarKind = "no-wasm" | "noop" | "bare" | "meshcanary" | "compare" | "probe";

/** Compiles bench/fixtures/bare.wat to BARE_WASM (Envoy reads modules from files). */
export async function writeBareWasm(): Promise<void> {
  mkdirSync(dirname(resolve(BARE_WASM)), { recursive: true });
  writeFileSync(resolve(BARE_WASM), await bareModule());
}

/** meshcanary's pluginConfig: reporting to the sink, one canaried route, sticky on x-user-id. */
export function meshcanaryConfig(): string {
  return JSON.stringify({
    controller: {
      cluster: CONTROLLER_CLUSTER,
      authority: "meshcanary-controller.meshcanary-system.svc.cluster.local",
      intervalMs: 1000,
      tokenEnv: "MESHCANARY_TOKEN",
    },
    routes: [BENCH_ROUTE],
  });
}

function listener(name: string) {
  const direct = { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: name } } };
  return httpListener(
    name,
    0,
    { route_config: { virtual_hosts: [{ name, domains: ["*"], routes: [direct] }] } },
    [ROUTER_FILTER],
  );
}

/** The upstream Envoy: listeners "stable" and "canary", each answering 200 itself. */
export interface Upstream {
  process: EnvoyProcess;
  ports: { stable: number; canary: number };
  /** Requests each listener answered so far. */
  served(): Promise<{ stable: number; canary: number }>;
  close(): Promise<void>;
}

export async function startUpstream(binary: string): Promise<Upstream> {
  const dir = mkdtempSync(join(tmpdir(), "meshcanary-upstream-"));
  const process = await startEnvoyProcess({
    binary,
    dir,
    concurrency: 1,
    logLevel: "warning",
    bootstrap: {
      admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
      static_resources: { listeners: [listener("stable"), listener("canary")] },
    },
  }).catch((e) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  const parsed = JSON.parse(await process.admin("/listeners?format=json")) as {
    listener_statuses?: { name?: string; local_address?: { socket_address?: { port_value?: number } } }[];
  };
  const portOf = (name: string) => {
    const port = parsed.listener_statuses?.find((l) => l.name === name)?.local_address?.socket_address
      ?.port_value;
    if (!port) throw new Error(`upstream envoy: listener ${name} has no port`);
    return port;
  };
  const ports = { stable: portOf("stable"), canary: portOf("canary") };
  return {
    process,
    ports,
    async served() {
      const s = await process.stats("downstream_rq_total");
      return {
        stable: s.get("http.stable.downstream_rq_total") ?? 0,
        canary: s.get("http.canary.downstream_rq_total") ?? 0,
      };
    },
    async close() {
      await process.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The mesh as istiod would see it: reviews with stable/canary pods, meshcanary's VirtualService. */
export function meshView(upstream: Upstream): MeshView {
  const subsets = ["stable", "canary"] as const;
  return {
    proxyNamespace: "default",
    services: [
      {
        host: HOST,
        port: PORT,
        endpoints: subsets.map((v) => ({
          address: "127.0.0.1",
          port: upstream.ports[v],
          labels: { version: v },
        })),
      },
    ],
    virtualServices: [
      {
        namespace: "default",
        name: "reviews",
        spec: {
          hosts: ["reviews"],
          http: [
            ...["canary", "stable"].map((v) => ({
              name: `meshcanary-${v}`,
              match: [{ headers: { [VARIANT]: { exact: v } } }],
              route: [{ destination: { host: "reviews", subset: v } }],
            })),
            { name: "default", route: [{ destination: { host: "reviews", subset: "stable" } }] },
          ],
        },
      },
    ],
    destinationRules: [
      {
        namespace: "default",
        name: "reviews",
        host: "reviews",
        subsets: subsets.map((v) => ({ name: v, labels: { version: v } })),
      },
    ],
  };
}

function filterOf(kind: SidecarKind, wasmPath?: string): WasmFilterSpec | undefined {
  if (kind === "no-wasm") return undefined;
  const base = { name: "default.meshcanary", failurePolicy: "FAIL_OPEN" as const };
  if (kind === "probe") return { ...base, wasmPath: resolve(wasmPath ?? ""), pluginConfig: "" };
  if (kind === "noop") return { ...base, wasmPath: resolve(NOOP_WASM), pluginConfig: "" };
  if (kind === "bare") return { ...base, wasmPath: resolve(BARE_WASM), pluginConfig: "" };
  return {
    ...base,
    wasmPath: resolve(kind === "compare" && wasmPath ? wasmPath : MESHCANARY_WASM),
    pluginConfig: meshcanaryConfig(),
    env: { MESHCANARY_TOKEN: TOKEN },
  };
}

/** The controller's telemetry ingest, as the reports' sink. */
export function startSink(): Promise<TelemetryServer> {
  return startTelemetryServer({ token: TOKEN, isKnownCanary: (id) => id === "default/reviews" });
}

/** One client sidecar of the given kind (a probe: the module at `wasmPath`) in front of `upstream`. */
export function startBenchSidecar(opts: {
  binary: string;
  kind: SidecarKind;
  wasmPath?: string;
  upstream: Upstream;
  sink: TelemetryServer;
  concurrency: number;
}): Promise<EnvoySidecar> {
  return startEnvoySidecar({
    binary: opts.binary,
    node: { pod: `bench-client-${opts.kind}`, namespace: "default", workload: "bench-client" },
    filter: filterOf(opts.kind, opts.wasmPath),
    mesh: () => meshView(opts.upstream),
    extraClusters: [
      staticCluster(CONTROLLER_CLUSTER, [{ address: "127.0.0.1", port: opts.sink.port }], true),
    ],
    concurrency: opts.concurrency,
    logLevel: "warning",
  });
}

/** Requests the sidecar's outbound listener has completed (Envoy's own count). */
export async function downstreamRequests(sidecar: EnvoySidecar): Promise<number> {
  const stats = await sidecar.process.stats("downstream_rq_completed");
  const name = [...stats.keys()].find(
    (k) => k.startsWith("http.outbound_") && k.endsWith(".downstream_rq_completed"),
  );
  return name ? (stats.get(name) ?? 0) : 0;
}
