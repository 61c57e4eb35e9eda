/**
 * The whole sandbox on one machine: the embedded Kubernetes API (its kubeconfig written out so the
 * CLI can be pointed at it), the CRD and the sample DestinationRule/VirtualService per service,
 * the WasmPlugin, one demo app per service version, the controller, the compiled filter in a
 * 2-worker sidecar — real Envoy where installed, else the TypeScript sidecar — routing by the live
 * VirtualServices, and a sticky-user load generator per service. A library: the demo, its tests,
 * the benchmarks and the reliability suites start it.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import pino, { type Logger } from "pino";
import { type RunningController, startController } from "../../controller/app/controller.js";
import { loadKubeConfig } from "../../controller/kube/client.js";
import { issueReporterCredential } from "../../controller/security/reporter-credential.js";
import { type AppBehaviour, type DemoApp, startDemoApp } from "../apps/demo-app.js";
import { type LoadGenerator, startLoad } from "../apps/load-generator.js";
import { type DataPlane, type DataPlaneKind, preferredKind, startDataPlane } from "../data-plane.js";
import type { MeshView, ServiceView } from "../envoy/istio-xds.js";
import { type KubeApiServer, startKubeApi } from "../kube-api/index.js";
import { endpointKey, type EndpointMap } from "../sidecar/sidecar.js";
import {
  type DestinationRuleView,
  startVirtualServiceSource,
  type VirtualServiceSource,
} from "../sidecar/virtual-service-source.js";
import { startHttpRouteSource } from "../sidecar/http-route-source.js";
import { type KubeRest, kubeRest } from "./kube-objects.js";
import { DEMO_NAMESPACE, filterWiring, repoRoot, stageManifests, wasmPlugin } from "./manifests.js";
import {
  gatewayApiManifests,
  gatewayApiMeshView,
  type MeshShape,
  proxyNode,
  wasmPluginPath,
} from "./shapes.js";
import { receiverNode, startShadowReceiver } from "./shadow-receivers.js";

/** One service of the sandbox and the versions (DestinationRule subsets v1, v2, ...) it runs. */
export interface ServiceSetup {
  /** Short name, e.g. "reviews"; the host is <name>.default.svc.cluster.local. */
  name: string;
  /** Version label -> app behaviour overrides; the sample's subsets are v1 (stable) and v2 (canary). */
  versions: Record<string, Partial<AppBehaviour>>;
  /** A version whose pod runs a shadow's receiving-side sidecar (shadow-receivers.ts). */
  shadowReceiver?: string;
}

export interface SandboxOptions {
  services: ServiceSetup[];
  /** Repository root (manifests, build/meshcanary.wasm); default: found from this module. */
  root?: string;
  /** Where the kubeconfig of the embedded API is written; default <root>/build/sandbox/kubeconfig. */
  kubeconfigPath?: string;
  /** Sidecar worker VMs (Envoy worker threads); default 2. */
  workers?: number;
  /** Which sidecar: real Envoy (default where installed) or the TypeScript one. */
  dataPlane?: DataPlaneKind;
  /** Load per service: requests per second and distinct sticky users; rps 0 = no load. */
  load: { rps: number; users: number; rampMs?: number };
  /** Controller reconcile interval; default 250 ms. */
  tickMs?: number;
  /** Controller API/dashboard port; default 0 (any free port). */
  apiPort?: number;
  /** Controller log; default silent. */
  logger?: Logger;
  /** Mesh shape (sidecar + VirtualService, sidecar + Gateway API, ambient waypoint); default sidecar. */
  shape?: MeshShape;
}

/** A user served by another version than before (seen by the load generator). */
export interface Transition {
  atMs: number;
  from: string;
  to: string;
}

export interface Sandbox {
  root: string;
  /** The mesh shape this sandbox runs. */
  shape: MeshShape;
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
  /** The sidecar in front of every service: real Envoy or the TypeScript fallback. */
  dataPlane: DataPlane;
  /** Why the TypeScript sidecar runs instead of Envoy (undefined when Envoy runs or was not wanted). */
  fallbackReason?: string;
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

/** Subset -> local address for a TypeScript sidecar of its own (the soak), from the DestinationRules' subset labels. */
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

/** Each demo app's endpoint by "<service>/<version>", labelled version=<version>. */
function appEndpoints(
  apps: ReadonlyMap<string, { url: string }>,
): Map<string, ServiceView["endpoints"][number]> {
  return new Map(
    [...apps].map(([key, app]) => {
      const url = new URL(app.url);
      const version = key.slice(key.indexOf("/") + 1);
      return [key, { address: url.hostname, port: Number(url.port), labels: { version } }];
    }),
  );
}

/** Port every sandbox service is named with in routes and clusters (Istio: the Service port). */
export const SERVICE_PORT = 9080;

/**
 * The mesh as istiod would show it to the sidecar: one Service per DestinationRule host whose pods
 * are the running demo apps (labelled version=<v>), and the live VirtualServices.
 */
export function meshViewFor(
  routing: VirtualServiceSource,
  apps: ReadonlyMap<string, { url: string }>,
  namespace: string,
): MeshView {
  const rules = routing.destinationRules();
  const services: ServiceView[] = rules.map((rule) => {
    const service = rule.host.split(".")[0] ?? rule.host;
    const endpoints = [...apps]
      .filter(([key]) => key.startsWith(`${service}/`))
      .map(([key, app]) => {
        const url = new URL(app.url);
        return {
          address: url.hostname,
          port: Number(url.port),
          labels: { version: key.slice(service.length + 1) },
        };
      });
    return { host: rule.host, port: SERVICE_PORT, endpoints };
  });
  return {
    proxyNamespace: namespace,
    services,
    virtualServices: routing.namespacedVirtualServices(),
    destinationRules: rules,
  };
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
  readWasm(wasmPath); // a missing build fails here with a clear message, whichever sidecar runs
  const shape = opts.shape ?? "sidecar";
  const wiring = filterWiring(wasmPlugin(root, wasmPluginPath(shape)));
  if (wiring instanceof Error) throw wiring;
  const hostOf = (service: string) => `${service}.${DEMO_NAMESPACE}.svc.cluster.local`;

  const kubeApi = await startKubeApi({ port: 0 });
  closers.push(() => kubeApi.close());
  const kubeconfigPath = opts.kubeconfigPath ?? join(root, "build", "sandbox", "kubeconfig");
  mkdirSync(dirname(kubeconfigPath), { recursive: true });
  kubeApi.writeKubeconfig(kubeconfigPath);
  const kube = kubeRest(kubeApi.kubeconfig());
  const names = opts.services.map((s) => s.name);
  const staged =
    shape === "sidecar"
      ? stageManifests(root, names)
      : [...stageManifests(root, []), ...gatewayApiManifests(root, names)];
  for (const m of [...staged, wasmPlugin(root, wasmPluginPath(shape))]) {
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
  const httpRoutes = shape === "sidecar" ? undefined : await startHttpRouteSource(kc);
  if (httpRoutes && !httpRoutes.ok) throw new Error(httpRoutes.error);
  if (httpRoutes) closers.push(() => httpRoutes.value.close());
  const meshView = () => {
    // The pods as the mesh sees them: a shadow receiver's sidecar stands in front of its app.
    const view = meshViewFor(routing, pods, DEMO_NAMESPACE);
    return httpRoutes
      ? gatewayApiMeshView(view, httpRoutes.value.httpRoutes(), appEndpoints(pods), SERVICE_PORT)
      : view;
  };

  // No mesh here: the controller issues the sidecar a credential for its own pod (issue #14).
  const reporterSecret = randomBytes(32).toString("hex");
  const node = proxyNode(shape);
  const client = { pod: node.pod, namespace: node.namespace };
  const credential = issueReporterCredential(reporterSecret, client);
  const apiToken = randomBytes(16).toString("hex");
  const launch = (telemetryPort: number, apiPort: number) =>
    startController({
      kubeconfigText: kubeApi.kubeconfig(),
      telemetry: {
        host: "127.0.0.1",
        port: telemetryPort,
        identity: { kind: "credentials", secret: reporterSecret },
      },
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

  const preferred = opts.dataPlane ? { kind: opts.dataPlane } : preferredKind(root);
  // Pods with a receiving-side sidecar are reached through it.
  const pods = new Map<string, { url: string }>(apps);
  for (const service of opts.services.filter((s) => s.shadowReceiver !== undefined)) {
    const version = service.shadowReceiver!;
    const app = apps.get(`${service.name}/${version}`);
    if (!app) throw new Error(`sandbox: ${service.name} has no version ${version} to receive its shadow`);
    const receiver = await startShadowReceiver({
      kind: preferred.kind,
      root,
      wasmPath,
      pluginConfig: wiring.pluginConfig,
      ...(wiring.tokenEnv
        ? {
            env: {
              [wiring.tokenEnv]: issueReporterCredential(reporterSecret, receiverNode(service.name, version)),
            },
          }
        : {}),
      controller: { cluster: wiring.cluster, address: "127.0.0.1", port: controller.telemetryPort },
      service: service.name,
      version,
      app,
    });
    closers.push(() => receiver.close());
    pods.set(`${service.name}/${version}`, receiver);
  }
  const dataPlane = await startDataPlane({
    kind: preferred.kind,
    root,
    wasmPath,
    pluginConfig: wiring.pluginConfig,
    ...(wiring.tokenEnv ? { env: { [wiring.tokenEnv]: credential } } : {}),
    node,
    failurePolicy: "FAIL_OPEN",
    controller: { cluster: wiring.cluster, address: "127.0.0.1", port: controller.telemetryPort },
    mesh: meshView,
    workers: opts.workers ?? 2,
  });
  closers.push(() => dataPlane.close());
  // istiod's push: every VirtualService/DestinationRule change reaches the sidecar, one at a time.
  let pushing = Promise.resolve();
  const push = () => {
    pushing = pushing.then(() =>
      dataPlane
        .update()
        .catch((err: unknown) =>
          (opts.logger ?? pino({ level: "silent" })).warn({ err }, "sidecar update failed"),
        ),
    );
  };
  routing.onChange(push);
  httpRoutes?.value.onChange(push);

  const loads = new Map<string, LoadGenerator>();
  const transitions = new Map<string, Transition[]>();
  for (const service of opts.services) {
    const log: Transition[] = [];
    transitions.set(service.name, log);
    const load = startLoad({
      target: dataPlane.url,
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
    shape,
    kubeApi,
    kubeconfigPath,
    kube,
    get controller() {
      return controller;
    },
    restartController,
    apiUrl: `http://127.0.0.1:${controller.apiPort}`,
    apiToken,
    dataPlane,
    ...("why" in preferred && preferred.why ? { fallbackReason: preferred.why } : {}),
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
