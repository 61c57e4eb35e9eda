/**
 * Real Envoy as the sandbox's client sidecar: the bootstrap of bootstrap.ts, routes and clusters
 * translated from the live VirtualServices/DestinationRules by istio-xds.ts, and the meshcanary
 * Wasm filter by ECDS, each written as a file that Envoy picks up on the next move into its watched
 * directory — what istiod's push does, without a restart. `update()` returns once Envoy reports the
 * new version, so a caller knows the routes in force.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bootstrap,
  discoveryResponse,
  type SidecarNode,
  type WasmFilterSpec,
  wasmFilterConfig,
} from "./bootstrap.js";
import { type EnvoyProcess, startEnvoyProcess } from "./envoy-process.js";
import { type Json, type MeshView, outboundConfig } from "./istio-xds.js";

const ROUTE_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
const CLUSTER_TYPE = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
const EXTENSION_TYPE = "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig";

export interface EnvoySidecarOptions {
  binary: string;
  node: SidecarNode;
  /** The meshcanary filter; absent = Envoy without Wasm (the benchmark's baseline). */
  filter?: WasmFilterSpec;
  /** The mesh as the proxy should see it now (read at start and on every update()). */
  mesh: () => MeshView;
  /** Clusters beside the services' (e.g. the controller's gRPC cluster). */
  extraClusters?: Json[];
  /** Route configuration name (Istio: the port); default "9080". */
  routeConfigName?: string;
  concurrency?: number;
  port?: number;
  logLevel?: string;
  /** Keep the working directory after close (log inspection). */
  keepDir?: boolean;
}

export interface EnvoySidecar {
  readonly port: number;
  readonly url: string;
  readonly process: EnvoyProcess;
  readonly dir: string;
  /** Pushes the current mesh view (routes and clusters); resolves once Envoy has applied it. */
  update(): Promise<void>;
  /** Pushes a new filter configuration (ECDS); resolves once Envoy has applied or refused it. */
  setFilter(filter: WasmFilterSpec): Promise<"applied" | "rejected">;
  close(): Promise<void>;
}

interface Pushed {
  version: number;
}

function writeAtomically(dir: string, file: string, content: Json): void {
  const tmp = join(dir, `.${file}.tmp`);
  writeFileSync(tmp, JSON.stringify(content));
  renameSync(tmp, join(dir, file));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The version_info Envoy reports for a config_dump resource section (first entry). */
async function appliedVersions(p: EnvoyProcess, resource: string): Promise<string[]> {
  const text = await p.admin(`/config_dump?resource=${resource}`);
  const parsed = JSON.parse(text) as { configs?: Json[] };
  return (parsed.configs ?? []).map((c) => String(c.version_info ?? ""));
}

async function waitApplied(
  p: EnvoyProcess,
  resource: string,
  version: number,
  maxMs = 10_000,
): Promise<boolean> {
  const end = Date.now() + maxMs;
  while (Date.now() < end) {
    const versions = await appliedVersions(p, resource).catch(() => []);
    if (versions.length > 0 && versions.every((v) => Number(v) >= version)) return true;
    await sleep(20);
  }
  return false;
}

export async function startEnvoySidecar(opts: EnvoySidecarOptions): Promise<EnvoySidecar> {
  const dir = mkdtempSync(join(tmpdir(), "meshcanary-envoy-"));
  const routeConfigName = opts.routeConfigName ?? "9080";
  const state: Pushed = { version: 1 };
  let filterVersion = 1;
  // Envoy keeps an unchanged cluster's version_info, so clusters are pushed (and waited for) only
  // when they changed; a VirtualService edit alone moves the routes only.
  let clustersPushed = "";
  const writeMesh = (): { clustersChanged: boolean } => {
    const cfg = outboundConfig(opts.mesh(), routeConfigName);
    const clusters = [...cfg.clusters, ...(opts.extraClusters ?? [])];
    const clustersChanged = JSON.stringify(clusters) !== clustersPushed;
    if (clustersChanged) {
      writeAtomically(dir, "cds.json", discoveryResponse(state.version, CLUSTER_TYPE, clusters));
      clustersPushed = JSON.stringify(clusters);
    }
    writeAtomically(dir, "rds.json", discoveryResponse(state.version, ROUTE_TYPE, [cfg.routeConfiguration]));
    return { clustersChanged };
  };
  const writeFilter = (filter: WasmFilterSpec) =>
    writeAtomically(
      dir,
      "ecds.json",
      discoveryResponse(filterVersion, EXTENSION_TYPE, [
        { name: "meshcanary", typed_config: wasmFilterConfig(filter) },
      ]),
    );
  writeMesh();
  if (opts.filter) writeFilter(opts.filter);
  let process: EnvoyProcess;
  try {
    process = await startEnvoyProcess({
      binary: opts.binary,
      dir,
      concurrency: opts.concurrency,
      logLevel: opts.logLevel,
      bootstrap: bootstrap({
        node: opts.node,
        xdsDir: dir,
        port: opts.port ?? 0,
        routeConfigName,
        withFilter: !!opts.filter,
      }),
    });
  } catch (err) {
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port: process.port,
    url: `http://127.0.0.1:${process.port}`,
    process,
    dir,
    async update() {
      state.version++;
      const { clustersChanged } = writeMesh();
      const ok =
        (await waitApplied(process, "dynamic_route_configs", state.version)) &&
        (!clustersChanged || (await waitApplied(process, "dynamic_active_clusters", state.version)));
      if (!ok)
        throw new Error(
          `envoy did not apply routing version ${state.version}: ${process.warnings().slice(-3).join(" | ")}`,
        );
    },
    async setFilter(filter) {
      filterVersion++;
      writeFilter(filter);
      return (await waitApplied(process, "ecds_filters", filterVersion, 5000)) ? "applied" : "rejected";
    },
    async close() {
      await process.stop();
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
