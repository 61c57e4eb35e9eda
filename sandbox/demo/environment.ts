/**
 * The whole sandbox on one machine: the embedded Kubernetes API (its kubeconfig written out so the
 * CLI can be pointed at it), the CRD and the sample DestinationRule/VirtualService per service,
 * the WasmPlugin, one demo app per service version, the controller, the compiled filter in a
 * 2-worker sidecar routing by the live VirtualServices, and a sticky-user load generator per
 * service. A library: the demo, its tests, the benchmarks and the reliability suites start it.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import pino, { type Logger } from "pino";
import { type RunningController, startController } from "../../controller/app/controller.js";
import { loadKubeConfig } from "../../controller/kube/client.js";
import { type AppBehaviour, type DemoApp, startDemoApp } from "../apps/demo-app.js";
import { type LoadGenerator, startLoad } from "../apps/load-generator.js";
import { loadHost, type ProxyWasmHost } from "../host/index.js";
import { type KubeApiServer, startKubeApi } from "../kube-api/index.js";
import { endpointKey, type EndpointMap, type Sidecar, startSidecar } from "../sidecar/sidecar.js";
import {
  type DestinationRuleView,
  startVirtualServiceSource,
  type VirtualServiceSource,
} from "../sidecar/virtual-service-source.js";
import { type KubeRest, kubeRest } from "./kube-objects.js";
import { DEMO_NAMESPACE, filterWiring, repoRoot, stageManifests, wasmPlugin } from "./manifests.js";

/** One service of the sandbox and the versions (DestinationRule subsets v1, v2, ...) it runs. */
export interface ServiceSetup {
  /** Short name, e.g. "reviews"; the host is <name>.default.svc.cluster.local. */
  name: string;
  /** Version label -> app behaviour overrides; the sample's subsets are v1 (stable) and v2 (canary). */
  versions: Record<string, Partial<AppBehaviour>>;
}

export interface SandboxOptions {
  services: ServiceSetup[];
  /** Repository root (manifests, build/meshcanary.wasm); default: found from this module. */
  root?: string;
  /** Where the kubeconfig of the embedded API is written; default <root>/build/sandbox/kubeconfig. */
  kubeconfigPath?: string;
  /** Sidecar worker VMs (Envoy worker threads); default 2. */
  workers?: number;
  /** Load per service: requests per second and distinct sticky users; rps 0 = no load. */
  load: { rps: number; users: number; rampMs?: number };
  /** Controller reconcile interval; default 250 ms. */
  tickMs?: number;
  /** Controller API/dashboard port; default 0 (any free port). */
  apiPort?: number;
  /** Controller log; default silent. */
  logger?: Logger;
}

/** A user served by another version than before (seen by the load generator). */
export interface Transition {
  atMs: number;
  from: string;
  to: string;
}

export interface Sandbox {
  root: string;
  kubeApi: KubeApiServer;
  kubeconfigPath: string;
  kube: KubeRest;
  /** The running controller (a new one after restartController). */
  readonly controller: RunningController;
  /**
   * Closes the controller, runs `whileDown` (the gap without a controller), then starts a new one
   * on the same telemetry and API ports against the same Kubernetes API (a restart).
   */
  restartController(whileDown?: () => Promise<void>): Promise<void>;
  /** The controller's HTTP API; its root serves the dashboard. */
  apiUrl: string;
  /** Bearer token for the API's commands (POST). */
  apiToken: string;
  host: ProxyWasmHost;
  sidecar: Sidecar;
  routing: VirtualServiceSource;
  /** The app serving `version` of `service`. */
  app(service: string, version: string): DemoApp;
  load(service: string): LoadGenerator;
  /** Every version change of a user of `service`, in order. */
  transitions(service: string): readonly Transition[];
  /** The service's host as the filter and the Canary name it. */
  hostOf(service: string): string;
  close(): Promise<void>;
}

export const STICKY_HEADER = "x-user-id";
/** The load's path: the demo app's LLM-style endpoint, which returns x-llm-total-tokens. */
const LOAD_PATH = "/v1/completions";

/** Subset -> local address, from the DestinationRules' subset labels (version) and the running apps. */
export function endpointsFor(
  rules: readonly DestinationRuleView[],
  appAddress: (service: string, version: string) => string | undefined,
): EndpointMap {
  const out: EndpointMap = new Map();
  for (const rule of rules) {
    const service = rule.host.split(".")[0] ?? rule.host;
    for (const subset of rule.subsets) {
      const version = subset.labels?.version;
      const address = version === undefined ? undefined : appAddress(service, version);
      if (!address) continue;
      // VirtualServices name the destination by short or full host; both resolve to the subset.
      out.set(endpointKey(rule.host, subset.name), address);
      out.set(endpointKey(service, subset.name), address);
    }
  }
  return out;
}

/** Starts everything; on a failure, stops what already started and rejects with the reason. */
export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const closers: (() => Promise<void>)[] = [];
  try {
    return await start(opts, closers);
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  closers.length = 0;
}

async function start(opts: SandboxOptions, closers: (() => Promise<void>)[]): Promise<Sandbox> {
  const root = opts.root ?? repoRoot();
  const wasmPath = join(root, "build", "meshcanary.wasm");
  const module = readWasm(wasmPath);
  const wiring = filterWiring(wasmPlugin(root));
  if (wiring instanceof Error) throw wiring;
  const hostOf = (service: string) => `${service}.${DEMO_NAMESPACE}.svc.cluster.local`;

  const kubeApi = await startKubeApi({ port: 0 });
  closers.push(() => kubeApi.close());
  const kubeconfigPath = opts.kubeconfigPath ?? join(root, "build", "sandbox", "kubeconfig");
  mkdirSync(dirname(kubeconfigPath), { recursive: true });
  kubeApi.writeKubeconfig(kubeconfigPath);
  const kube = kubeRest(kubeApi.kubeconfig());
  for (const m of [
    ...stageManifests(
      root,
      opts.services.map((s) => s.name),
    ),
    wasmPlugin(root),
  ]) {
    const applied = await kube.apply(m);
    if (applied instanceof Error) throw applied;
  }

  const apps = new Map<string, DemoApp>();
  for (const service of opts.services) {
    for (const [version, behaviour] of Object.entries(service.versions)) {
      const app = await startDemoApp({ version, behaviour });
      closers.push(() => app.close());
      apps.set(`${service.name}/${version}`, app);
    }
  }

  const kc = loadKubeConfig({ kubeconfigText: kubeApi.kubeconfig() });
  if ("error" in kc) throw new Error(kc.error);
  const source = await startVirtualServiceSource(kc);
  if (!source.ok) throw new Error(source.error);
  const routing = source.value;
  closers.push(() => routing.close());
  let endpoints: EndpointMap | undefined;
  routing.onChange(() => {
    endpoints = undefined;
  });

  const token = randomBytes(16).toString("hex");
  const apiToken = randomBytes(16).toString("hex");
  const launch = (telemetryPort: number, apiPort: number) =>
    startController({
      kubeconfigText: kubeApi.kubeconfig(),
      telemetry: { host: "127.0.0.1", port: telemetryPort, token },
      leaderElection: { enabled: false, namespace: "", name: "", identity: "demo", leaseDurationSeconds: 15 },
      tickMs: opts.tickMs ?? 250,
      webhooks: false,
      api: { port: apiPort, host: "127.0.0.1", writeToken: apiToken },
      logger: opts.logger ?? pino({ level: "silent" }),
    });
  let controller = await launch(0, opts.apiPort ?? 0);
  closers.push(() => controller.close());
  // A restart keeps both ports: the filters' cluster and the dashboard's URL point at them.
  const restartController = async (whileDown?: () => Promise<void>) => {
    const { telemetryPort, apiPort } = controller;
    await controller.close();
    await whileDown?.();
    controller = await launch(telemetryPort, apiPort ?? 0);
  };

  const host = await loadHost({
    module,
    workers: opts.workers ?? 2,
    pluginConfig: wiring.pluginConfig,
    clusters: { [wiring.cluster]: `127.0.0.1:${controller.telemetryPort}` },
    ...(wiring.tokenEnv ? { env: { [wiring.tokenEnv]: token } } : {}),
    node: { metadata: { NAME: "demo-client-0", NAMESPACE: DEMO_NAMESPACE, WORKLOAD_NAME: "demo-client" } },
    timers: "real",
  });
  closers.push(() => host.close());
  const sidecar = await startSidecar({
    host,
    virtualServices: () => routing.virtualServices(),
    endpoints: () => {
      endpoints ??= endpointsFor(routing.destinationRules(), (s, v) => apps.get(`${s}/${v}`)?.url.slice(7));
      return endpoints;
    },
  });
  closers.push(() => sidecar.close());

  const loads = new Map<string, LoadGenerator>();
  const transitions = new Map<string, Transition[]>();
  for (const service of opts.services) {
    const log: Transition[] = [];
    transitions.set(service.name, log);
    const load = startLoad({
      target: sidecar.url,
      authority: hostOf(service.name),
      rps: opts.load.rps,
      users: opts.load.users,
      userHeader: STICKY_HEADER,
      rampMs: opts.load.rampMs ?? 2000,
      path: LOAD_PATH,
      onTransition: (from, to) => log.push({ atMs: Date.now(), from, to }),
    });
    closers.push(() => load.stop());
    loads.set(service.name, load);
  }

  const lookup = <T>(map: Map<string, T>, key: string, what: string): T => {
    const found = map.get(key);
    if (found === undefined) throw new Error(`sandbox: no ${what} ${JSON.stringify(key)}`);
    return found;
  };
  return {
    root,
    kubeApi,
    kubeconfigPath,
    kube,
    get controller() {
      return controller;
    },
    restartController,
    apiUrl: `http://127.0.0.1:${controller.apiPort}`,
    apiToken,
    host,
    sidecar,
    routing,
    app: (service, version) => lookup(apps, `${service}/${version}`, "app"),
    load: (service) => lookup(loads, service, "service"),
    transitions: (service) => lookup(transitions, service, "service"),
    hostOf,
    close: () => closeAll(closers),
  };
}

function readWasm(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    throw new Error(`${path}: the compiled filter is missing; run 'make build' first`);
  }
}
