/**
 * The mesh-shaped world: the embedded Kubernetes API (real HTTP) with a VirtualService and
 * DestinationRule per service, the compiled filter in four real Envoy proxies — callers in three
 * namespaces and the ingress gateway in istio-system — routing by the live VirtualServices as
 * istiod would push them, one pair of upstream pods (v1, v2) behind every service, and two
 * controller replicas: a `meshcanary controller` process that leads first (the one SIGKILLed) and
 * an in-process standby that takes over. The filters reach the controller through a relay, the
 * Service in front of the replicas. Where Envoy is not installed the TypeScript sidecar runs
 * instead, and the world says why.
 */
import type { ChildProcess } from "node:child_process";
import pino from "pino";
import type { RunningController } from "../../controller/app/controller.js";
import { loadKubeConfig } from "../../controller/kube/client.js";
import { type DataPlane, type DataPlaneKind, startDataPlane } from "../../sandbox/data-plane.js";
import { filterWiring, repoRoot, wasmPlugin } from "../../sandbox/demo/manifests.js";
import type { MeshView } from "../../sandbox/envoy/istio-xds.js";
import { FaultRelay } from "../../sandbox/fault-relay.js";
import {
  startVirtualServiceSource,
  type VirtualServiceSource,
} from "../../sandbox/sidecar/virtual-service-source.js";
import { NS, startWorld, until, type World } from "../controller/harness.js";
import { startControllerProcess } from "../helpers/controller-process.js";
import { startControllerIn } from "../reliability/helpers.js";
import { startUpstreams, type Upstreams } from "./upstreams.js";

export const ROOT = repoRoot();
/** The proxies' report interval (the install's default is 1 s). */
export const REPORT_INTERVAL_MS = 250;
const SERVICE_PORT = 9080;

/** One proxy of the mesh: whose pod it is. */
export interface Caller {
  namespace: string;
  pod: string;
  workload: string;
}

/** Callers in three namespaces and the ingress gateway. */
export const CALLERS: Caller[] = [
  { namespace: "team-a", pod: "frontend-0", workload: "frontend" },
  { namespace: "team-b", pod: "checkout-0", workload: "checkout" },
  { namespace: "team-c", pod: "batch-0", workload: "batch" },
  { namespace: "istio-system", pod: "istio-ingressgateway-0", workload: "istio-ingressgateway" },
];

export interface MeshWorld {
  kube: World;
  kind: DataPlaneKind;
  planes: DataPlane[];
  upstreams: Upstreams;
  routing: VirtualServiceSource;
  /** Short service names (svc-0, ...); each is a VirtualService and DestinationRule in `default`. */
  services: string[];
  fqdn(service: string): string;
  /** The first leader (a process) and the standby that takes over. */
  first: { proc: ChildProcess; telemetryPort: number };
  standby: RunningController;
  /** Sends the filters' controller connections to the standby (the Service's endpoints after the kill). */
  relay: FaultRelay;
  close(): Promise<void>;
}

export async function startMeshWorld(kind: DataPlaneKind, serviceCount: number): Promise<MeshWorld> {
  const services = Array.from({ length: serviceCount }, (_, i) => `svc-${i}`);
  const kube = await startWorld(services);
  const closers: Array<() => Promise<unknown>> = [() => kube.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const upstreams = await startUpstreams();
    closers.push(() => upstreams.close());
    const kc = loadKubeConfig({ kubeconfigText: kube.api.kubeconfig() });
    if ("error" in kc) throw new Error(kc.error);
    const source = await startVirtualServiceSource(kc);
    if (!source.ok) throw new Error(source.error);
    const routing = source.value;
    closers.push(() => routing.close());

    const first = await startControllerProcess(kube.api.kubeconfig(), {
      identity: "first",
      namespace: NS,
      leaseNamespace: NS,
    });
    closers.push(async () => first.proc.kill("SIGKILL"));
    await until("the first controller to lead", async () => first.leads());
    // MESH_E2E_LOG=<file>: the standby's log (info and up) goes there, for a failed run.
    const standby = await startControllerIn(kube, {
      leaderElection: true,
      identity: "standby",
      // The controller's default 15-s lease once it leads (it takes over after the first leader's 2-s
      // lease). The suite takes its leadership away itself, every few seconds (mesh.test.ts): a 2-s
      // lease flapped only as the machine's load allowed, from never to every second (which starves
      // any controller's progress).
      leaseDurationSeconds: 15,
      ...(process.env.MESH_E2E_LOG
        ? { logger: pino({ level: "info" }, pino.destination(process.env.MESH_E2E_LOG)) }
        : {}),
    });
    closers.push(() => standby.close());
    const relay = new FaultRelay(first.telemetryPort);
    await relay.start();
    closers.push(() => relay.close());

    const wiring = filterWiring(wasmPlugin(ROOT));
    if (wiring instanceof Error) throw wiring;
    // The install's WasmPlugin as is, but for the telemetry token: these controllers run without
    // one (authenticating reporters is issue 14's suite, not this one's).
    const plugin = JSON.parse(wiring.pluginConfig) as { controller: Record<string, unknown> };
    delete plugin.controller.tokenEnv;
    // Reports 4 times a second rather than once: each step waits for every proxy to confirm its
    // table, and each count for the last report, so the run is shorter with every property kept.
    plugin.controller.intervalMs = REPORT_INTERVAL_MS;
    const pluginConfig = JSON.stringify(plugin);
    const fqdn = (s: string) => `${s}.${NS}.svc.cluster.local`;
    const view = (namespace: string): MeshView => ({
      proxyNamespace: namespace,
      services: services.map((s) => ({
        host: fqdn(s),
        port: SERVICE_PORT,
        endpoints: (["v1", "v2"] as const).map((v) => ({
          address: "127.0.0.1",
          port: upstreams.ports[v],
          labels: { version: v },
        })),
      })),
      virtualServices: routing.namespacedVirtualServices(),
      destinationRules: routing.destinationRules(),
    });
    const planes: DataPlane[] = [];
    for (const caller of CALLERS) {
      const plane = await startDataPlane({
        kind,
        root: ROOT,
        pluginConfig,
        node: { pod: caller.pod, namespace: caller.namespace, workload: caller.workload },
        controller: { cluster: wiring.cluster, address: "127.0.0.1", port: relay.port },
        mesh: () => view(caller.namespace),
        // The gateway runs two workers (shared tallies across VMs); the callers one each (2 cores).
        workers: caller.namespace === "istio-system" ? 2 : 1,
      });
      planes.push(plane);
      closers.push(() => plane.close());
      const stop = pushOnChange(routing, plane);
      closers.push(async () => stop());
    }
    return { kube, kind, planes, upstreams, routing, services, fqdn, first, standby, relay, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * istiod's push: after any VirtualService/DestinationRule change the proxy gets the newest config,
 * one push at a time. Returns the function that stops pushing (before the proxy closes).
 */
function pushOnChange(routing: VirtualServiceSource, plane: DataPlane): () => void {
  let running = false;
  let again = false;
  let stopped = false;
  const log = pino({ level: "warn" });
  const push = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    do {
      again = false;
      await plane.update().catch((err: unknown) => stopped || log.warn({ err }, "proxy update failed"));
    } while (again && !stopped);
    running = false;
  };
  const unsubscribe = routing.onChange(() => void (stopped || push()));
  return () => {
    stopped = true;
    unsubscribe();
  };
}
