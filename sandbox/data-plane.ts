/**
 * The sidecar a sandbox run puts in front of its services: real Envoy (the authority) or, where
 * Envoy cannot be installed, the TypeScript sidecar on the sandbox proxy-wasm host. Both take the
 * same inputs — the compiled filter and its WasmPlugin settings, the pod's identity, the mesh's
 * routing — and answer the same questions, so one conformance suite, the demo and the benchmarks
 * run unchanged on either.
 */
import { readFileSync } from "node:fs";
import type { SidecarNode } from "./envoy/bootstrap.js";
import { findEnvoy } from "./envoy/binary.js";
import { type EnvoySidecar, startEnvoySidecar } from "./envoy/envoy-sidecar.js";
import { inboundConfig } from "./envoy/inbound-xds.js";
import { fqdn, type MeshView, staticCluster } from "./envoy/istio-xds.js";
import { type FailurePolicy, loadHost, type ProxyWasmHost } from "./host/index.js";
import { endpointKey, type EndpointMap, type Sidecar, startSidecar } from "./sidecar/sidecar.js";
import type { VirtualServiceSpec } from "./sidecar/virtual-service-router.js";

export type DataPlaneKind = "envoy" | "sandbox";

export interface DataPlaneOptions {
  kind: DataPlaneKind;
  /** Repository root (build/meshcanary.wasm, build/envoy). */
  root: string;
  /** The filter module; default <root>/build/meshcanary.wasm. */
  wasmPath?: string;
  /** WasmPlugin pluginConfig as JSON. */
  pluginConfig: string;
  /** WasmPlugin vmConfig.env. */
  env?: Record<string, string>;
  node: SidecarNode;
  /** WasmPlugin failStrategy; default FAIL_OPEN as istio/wasmplugin.yaml sets it. */
  failurePolicy?: FailurePolicy;
  /** The controller's gRPC cluster (Istio name) and where it listens now. */
  controller?: { cluster: string; address: string; port: number };
  /** The mesh as the proxy sees it (read at start and on update()). */
  mesh: () => MeshView;
  /** Worker threads / VMs; default 2 (Envoy --concurrency). */
  workers?: number;
  /** Envoy version to run (default: MESHCANARY_ENVOY_VERSION or the newest). */
  envoyVersion?: string;
  /** Run as a pod's inbound sidecar: every request goes to this local app (mesh is not read). */
  inbound?: { address: string; port: number };
}

/** The inbound listener's service port (Istio names the inbound cluster by it). */
const INBOUND_PORT = 9080;
const INBOUND_HOST = "inbound";

export interface DataPlane {
  readonly kind: DataPlaneKind;
  /** What runs, for humans: "Envoy 1.40.0, 2 workers" or "TypeScript sidecar, 2 worker VMs". */
  readonly label: string;
  readonly url: string;
  readonly port: number;
  /** Applies the current mesh view; resolves once the proxy routes by it. */
  update(): Promise<void>;
  /** The proxy's counters and gauges by Envoy stat name (wasmcustom.meshcanary_…). */
  metrics(): Promise<Map<string, number>>;
  /** The admin /stats/prometheus text (the sandbox host renders its stats as Envoy does). */
  prometheus(): Promise<string>;
  /** Pushes a new plugin configuration (Istio: a WasmPlugin edit, delivered by ECDS). */
  reconfigure(pluginConfig: string): Promise<"applied" | "rejected">;
  /** Warning-or-worse log lines so far. */
  warnings(): string[];
  close(): Promise<void>;
}

/** Local address per (host, subset) for the TypeScript sidecar, from the same mesh view Envoy gets. */
export function endpointMap(view: MeshView): EndpointMap {
  const out: EndpointMap = new Map();
  for (const service of view.services) {
    const all = service.endpoints[0];
    const short = service.host.split(".")[0] ?? service.host;
    const set = (subset: string | undefined, ep: { address: string; port: number } | undefined) => {
      if (!ep) return;
      out.set(endpointKey(service.host, subset), `${ep.address}:${ep.port}`);
      out.set(endpointKey(short, subset), `${ep.address}:${ep.port}`);
    };
    set(undefined, all);
    for (const rule of view.destinationRules) {
      if (fqdn(rule.host, rule.namespace) !== service.host) continue;
      for (const subset of rule.subsets) {
        const want = Object.entries(subset.labels ?? {});
        set(
          subset.name,
          service.endpoints.find((e) => want.every(([k, v]) => e.labels[k] === v)),
        );
      }
    }
  }
  return out;
}

async function startEnvoyPlane(opts: DataPlaneOptions, wasmPath: string): Promise<DataPlane> {
  const binary = findEnvoy(opts.root, opts.envoyVersion);
  if (!binary.ok) throw new Error(binary.error);
  const filter = {
    name: "default.meshcanary",
    wasmPath,
    pluginConfig: opts.pluginConfig,
    env: opts.env,
    failurePolicy: opts.failurePolicy ?? "FAIL_OPEN",
  };
  const sidecar: EnvoySidecar = await startEnvoySidecar({
    binary: binary.path,
    node: opts.node,
    concurrency: opts.workers ?? 2,
    filter,
    mesh: opts.mesh,
    ...(opts.inbound ? { config: () => inboundConfig("9080", INBOUND_PORT, opts.inbound!) } : {}),
    extraClusters: opts.controller
      ? [
          staticCluster(
            opts.controller.cluster,
            [{ address: opts.controller.address, port: opts.controller.port }],
            true,
          ),
        ]
      : [],
  });
  return {
    kind: "envoy",
    label: `Envoy ${binary.version}, ${opts.workers ?? 2} workers`,
    url: sidecar.url,
    port: sidecar.port,
    update: () => sidecar.update(),
    metrics: () => sidecar.process.stats("meshcanary"),
    prometheus: () => sidecar.process.admin("/stats/prometheus"),
    reconfigure: (pluginConfig) => sidecar.setFilter({ ...filter, pluginConfig }),
    warnings: () => sidecar.process.warnings(),
    close: () => sidecar.close(),
  };
}

async function startSandboxPlane(opts: DataPlaneOptions, wasmPath: string): Promise<DataPlane> {
  const host: ProxyWasmHost = await loadHost({
    module: new Uint8Array(readFileSync(wasmPath)),
    workers: opts.workers ?? 2,
    pluginConfig: opts.pluginConfig,
    clusters: opts.controller
      ? { [opts.controller.cluster]: `${opts.controller.address}:${opts.controller.port}` }
      : {},
    ...(opts.env ? { env: opts.env } : {}),
    node: {
      metadata: { NAME: opts.node.pod, NAMESPACE: opts.node.namespace, WORKLOAD_NAME: opts.node.workload },
    },
    failurePolicy: opts.failurePolicy ?? "FAIL_OPEN",
    timers: "real",
    mainThreadVm: true,
  });
  const inbound = opts.inbound;
  // An inbound sidecar: any authority, to the one local app.
  const read = (): [VirtualServiceSpec[], EndpointMap] => {
    if (inbound) {
      const all = [{ hosts: ["*"], http: [{ route: [{ destination: { host: INBOUND_HOST } }] }] }];
      return [all, new Map([[endpointKey(INBOUND_HOST, undefined), `${inbound.address}:${inbound.port}`]])];
    }
    const view = opts.mesh();
    return [
      view.virtualServices.map((v) => (v.gatewaySemantics ? { ...v.spec, gatewaySemantics: true } : v.spec)),
      endpointMap(view),
    ];
  };
  let [specs, endpoints] = read();
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar({
      host,
      virtualServices: () => specs,
      endpoints: () => endpoints,
    });
  } catch (err) {
    await host.close();
    throw err;
  }
  return {
    kind: "sandbox",
    label: `TypeScript sidecar, ${host.workerCount} worker VMs`,
    url: sidecar.url,
    port: sidecar.port,
    async update() {
      [specs, endpoints] = read();
    },
    async metrics() {
      return new Map([...host.metrics()].map(([k, v]) => [k, v.value]));
    },
    prometheus: async () => host.prometheus(),
    reconfigure: async (pluginConfig) => (host.configure(pluginConfig).ok ? "applied" : "rejected"),
    warnings: () => host.logs.filter((l) => l.level >= 3).map((l) => l.message),
    async close() {
      await sidecar.close();
      await host.close();
    },
  };
}

export async function startDataPlane(opts: DataPlaneOptions): Promise<DataPlane> {
  const wasmPath = opts.wasmPath ?? `${opts.root}/build/meshcanary.wasm`;
  return opts.kind === "envoy" ? startEnvoyPlane(opts, wasmPath) : startSandboxPlane(opts, wasmPath);
}

/** Envoy where it is installed, else the TypeScript sidecar with the reason (said, never hidden). */
export function preferredKind(root: string): { kind: DataPlaneKind; why?: string } {
  const found = findEnvoy(root);
  return found.ok ? { kind: "envoy" } : { kind: "sandbox", why: found.error };
}
