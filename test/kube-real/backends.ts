/**
 * The two API servers every scenario of this suite runs against: the embedded one (sandbox/kube-api)
 * and a real kube-apiserver with etcd. Both get what an install applies (the Canary CRD and
 * istio/controller's manifests), and on both the controller runs with the meshcanary-controller
 * ServiceAccount's own token, so RBAC applies; the real one also gets Istio's and Gateway API's CRDs.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KubeApiOptions, type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { embeddedRequest, type WorldApi, type WorldBackend } from "../controller/harness.js";
import {
  createAll,
  createCrds,
  type Manifest,
  type Requester,
  readManifests,
  serviceAccountToken,
} from "../helpers/kube-apply.js";
import { type KubeBins, kubeBins, startRealKube } from "../helpers/kube-real.js";
import { kustomizeBuild } from "../istio/kustomize.js";

export const CONTROLLER_NS = "meshcanary-system";
export const CONTROLLER_SA = "meshcanary-controller";
const REPO = new URL("../../", import.meta.url).pathname;

/** A world's API that can also be restarted (its storage kept). */
export interface SuiteApi extends WorldApi {
  /** Stops the API server and starts it again on the same address and storage. */
  restart(): Promise<void>;
}

export type SuiteBackend = WorldBackend<SuiteApi> & {
  name: string;
  /** Requests with the controller's own credentials where they differ from the test's (RBAC applies). */
  controllerReq?: Requester;
};

/** A backend to run the scenarios on, or why it is skipped. */
export interface BackendChoice {
  name: string;
  start: () => Promise<SuiteBackend>;
  /** Set when this backend cannot run here; the scenarios are then skipped with this message. */
  skip?: string;
}

/** Applies a kustomization like `kubectl apply -k`: its CRDs first (until Established), then the rest. */
export async function applyKustomization(req: Requester, dir: string, namespace?: string): Promise<void> {
  const built = kustomizeBuild(join(REPO, dir));
  if (built.problems.length > 0) throw new Error(`${dir}: ${built.problems.join("; ")}`);
  const objects = built.objects as Manifest[];
  // Like `kubectl apply -n`: namespaced objects moved to `namespace`.
  if (namespace) for (const o of objects) if (o.metadata.namespace) o.metadata.namespace = namespace;
  await createCrds(
    req,
    objects.filter((o) => o.kind === "CustomResourceDefinition"),
  );
  await createAll(
    req,
    objects.filter((o) => o.kind !== "CustomResourceDefinition"),
  );
}

/** What `kubectl apply -k istio` installs (Canary CRD, controller, RBAC, WasmPlugin), after `extraCrds`. */
async function installMeshcanary(req: Requester, extraCrds: Manifest[]): Promise<void> {
  await createCrds(req, extraCrds);
  await applyKustomization(req, "istio");
}

/** etcd + kube-apiserver from the kube-bins cache. */
export async function realBackend(bins: KubeBins): Promise<SuiteBackend> {
  const kube = await startRealKube(bins);
  try {
    const istio = readManifests(bins.istioCrds);
    const gatewayApi = readManifests(bins.gatewayApiCrds).filter(
      (o) => o.kind === "CustomResourceDefinition",
    );
    await installMeshcanary(kube.request, [...istio, ...gatewayApi]);
    const token = await serviceAccountToken(kube.request, CONTROLLER_NS, CONTROLLER_SA);
    return {
      name: "kube-apiserver",
      api: {
        kubeconfig: () => kube.kubeconfig(token),
        restart: () => kube.restartApiServer(),
        close: () => kube.close(),
      },
      req: kube.request,
      controllerReq: (method, path, body, contentType) =>
        kube.request(method, path, body, contentType, token),
      leaseNamespace: CONTROLLER_NS,
      crdInstalled: true,
    };
  } catch (e) {
    await kube.close();
    throw e;
  }
}

/** The embedded server, persisting to a temp dir so that a restart keeps its objects. */
export async function embeddedBackend(
  extra: Pick<KubeApiOptions, "serviceEndpoint"> = {},
): Promise<SuiteBackend> {
  const dataDir = mkdtempSync(join(tmpdir(), "meshcanary-embedded-"));
  const token = randomBytes(16).toString("hex");
  let server: KubeApiServer = await startKubeApi({ port: 0, dataDir, token, ...extra });
  const port = server.port;
  const requestAs =
    (as: () => string): Requester =>
    async (method, path, body, contentType) => {
      const send = embeddedRequest({ url: server.url, token: as() });
      try {
        return await send(method, path, body, contentType);
      } catch (e) {
        // fetch may reuse a keep-alive socket the restarted server's predecessor closed: one retry.
        if (!(e instanceof TypeError)) throw e;
        return send(method, path, body, contentType);
      }
    };
  const req = requestAs(() => token);
  let controllerToken: string;
  try {
    await installMeshcanary(req, []);
    controllerToken = await serviceAccountToken(req, CONTROLLER_NS, CONTROLLER_SA);
  } catch (e) {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    name: "embedded",
    api: {
      kubeconfig: () => server.kubeconfig(controllerToken),
      restart: async () => {
        await server.close();
        server = await startKubeApi({ port, dataDir, token, ...extra });
      },
      close: async () => {
        await server.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    },
    req,
    controllerReq: requestAs(() => controllerToken),
    leaseNamespace: CONTROLLER_NS,
    crdInstalled: true,
  };
}

/** A describe title naming the backend, and why it is skipped when it is. */
export function suiteTitle(what: string, choice: BackendChoice): string {
  return `${what} on ${choice.name}${choice.skip ? ` (skipped: ${choice.skip})` : ""}`;
}

/** Both backends; the real one skipped, with the reason, when its binaries are not built. */
export function backendChoices(): BackendChoice[] {
  const bins = kubeBins();
  const real: BackendChoice =
    "missing" in bins
      ? {
          name: "kube-apiserver",
          start: () => Promise.reject(new Error(bins.missing)),
          skip: "run `make kube-bins`",
        }
      : { name: "kube-apiserver", start: () => realBackend(bins) };
  if ("missing" in bins)
    console.warn(`test/kube-real: real kube-apiserver scenarios skipped: ${bins.missing}`);
  return [{ name: "embedded", start: embeddedBackend }, real];
}
