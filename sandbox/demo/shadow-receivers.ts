/**
 * The receiving side of a shadow in the sandbox: an inbound sidecar in front of a canary version's
 * app, running the compiled filter with `shadowReceiver: true` (in a cluster: a second WasmPlugin
 * selecting the canary pods, istio/samples/shadow/receiver-wasmplugin.yaml). Envoy's mirrored copies
 * arrive there with the authority suffixed "-shadow" and are tallied as the `shadow` variant; every
 * other request passes untallied, since the caller's filter already counted it.
 */
import type { DemoApp } from "../apps/demo-app.js";
import { type DataPlane, type DataPlaneKind, startDataPlane } from "../data-plane.js";
import { DEMO_NAMESPACE } from "./manifests.js";

/** The WasmPlugin configuration with the receiving-side switch on. */
export function receiverPluginConfig(pluginConfig: string): string {
  return JSON.stringify({ ...(JSON.parse(pluginConfig) as object), shadowReceiver: true });
}

export interface ReceiverOptions {
  kind: DataPlaneKind;
  root: string;
  wasmPath: string;
  pluginConfig: string;
  env?: Record<string, string>;
  controller: { cluster: string; address: string; port: number };
  service: string;
  version: string;
  app: DemoApp;
}

/** The proxy identity of `service`'s `version` pod, which its telemetry credential is issued for. */
export function receiverNode(service: string, version: string) {
  return { pod: `${service}-${version}-0`, namespace: DEMO_NAMESPACE, workload: `${service}-${version}` };
}

/** Starts the inbound sidecar of `service`'s `version` pod; its URL stands for the pod from now on. */
export function startShadowReceiver(o: ReceiverOptions): Promise<DataPlane> {
  const url = new URL(o.app.url);
  return startDataPlane({
    kind: o.kind,
    root: o.root,
    wasmPath: o.wasmPath,
    pluginConfig: receiverPluginConfig(o.pluginConfig),
    ...(o.env ? { env: o.env } : {}),
    node: receiverNode(o.service, o.version),
    failurePolicy: "FAIL_OPEN",
    controller: o.controller,
    mesh: () => ({ proxyNamespace: DEMO_NAMESPACE, services: [], virtualServices: [], destinationRules: [] }),
    inbound: { address: url.hostname, port: Number(url.port) },
    workers: 1,
  });
}
