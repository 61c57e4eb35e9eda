/**
 * A world for controller tests: a Kubernetes API (the embedded one by default, or any WorldBackend,
 * e.g. a real kube-apiserver) with the Canary CRD, a VirtualService and DestinationRule per host.
 */
import pino from "pino";
import { type ControllerOptions, startController } from "../../controller/app/controller.js";
import { Runner, type StatusWriter } from "../../controller/app/runner.js";
import { fail, ok } from "../../controller/kube/errors.js";
import { nullNotifier } from "../../controller/notify/webhooks.js";
import { canaryCrd } from "../../controller/spec/crd.js";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";

/** Untyped JSON from the API server, read loosely in tests. */
// biome-ignore lint/suspicious/noExplicitAny: untyped API responses
export type Json = any;

export const NS = "default";
const CANARIES = `/apis/meshcanary.io/v1alpha1/namespaces/${NS}/canaries`;
const VS = `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices`;
const DR = `/apis/networking.istio.io/v1/namespaces/${NS}/destinationrules`;

/** One JSON request to the API server: status and parsed body. */
export type JsonRequest = (
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
) => Promise<{ status: number; body: Json }>;

/** What a world's controllers connect to. */
export interface WorldApi {
  /** Kubeconfig the controller runs with. */
  kubeconfig(): string;
  close(): Promise<void>;
}

/** An API server to build a world on, with the credentials the test itself uses. */
export interface WorldBackend<A extends WorldApi> {
  api: A;
  /** A JSON request with the test's (admin) credentials. */
  req: JsonRequest;
  /** Namespace of the leader-election Lease (the one the controller's RBAC grants). */
  leaseNamespace: string;
  /** The Canary CRD is already installed (as the install manifests do). */
  crdInstalled?: boolean;
}

export interface World<A extends WorldApi = KubeApiServer> {
  api: A;
  leaseNamespace: string;
  req: JsonRequest;
  createCanary(name: string, spec: unknown): Promise<void>;
  canary(name: string): Promise<Json>;
  vs(name: string): Promise<Json>;
  events(name: string): Promise<Json[]>;
  annotate(name: string, value: string): Promise<void>;
  controller(extra?: {
    identity?: string;
    leaderElection?: boolean;
    api?: ControllerOptions["api"];
    statusCheckpointMs?: number;
    maxRoutes?: number;
    /** How the telemetry server identifies reporters (default: their own word). */
    telemetryIdentity?: ControllerOptions["telemetry"]["identity"];
  }): ReturnType<typeof startController>;
  close(): Promise<void>;
}

/** A JSON request to the embedded server with its token. */
export function embeddedRequest(api: { url: string; token: string }): JsonRequest {
  return async (method, path, body, contentType = "application/json") => {
    const res = await fetch(api.url + path, {
      method,
      headers: { authorization: `Bearer ${api.token}`, "content-type": contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };
}

export async function startWorld(hosts: string[] = ["reviews"]): Promise<World> {
  const api = await startKubeApi({ port: 0 });
  return startWorldOn({ api, req: embeddedRequest(api), leaseNamespace: NS }, hosts);
}

export async function startWorldOn<A extends WorldApi>(
  backend: WorldBackend<A>,
  hosts: string[] = ["reviews"],
): Promise<World<A>> {
  const { api, req, leaseNamespace } = backend;
  const must = async (p: Promise<{ status: number; body: Json }>) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`kube-api ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  if (!backend.crdInstalled) {
    await must(req("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", canaryCrd()));
  }
  for (const host of hosts) {
    await must(
      req("POST", DR, {
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata: { name: host, namespace: NS },
        spec: {
          host,
          subsets: [
            { name: "v1", labels: { version: "v1" } },
            { name: "v2", labels: { version: "v2" } },
          ],
        },
      }),
    );
    await must(
      req("POST", VS, {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name: host, namespace: NS },
        spec: {
          hosts: [host],
          http: [{ name: "primary", route: [{ destination: { host, subset: "v1" } }] }],
        },
      }),
    );
  }
  const running: Array<{ close(): Promise<void> }> = [];
  return {
    api,
    leaseNamespace,
    req,
    createCanary: async (name, spec) => {
      await must(
        req("POST", CANARIES, {
          apiVersion: "meshcanary.io/v1alpha1",
          kind: "Canary",
          metadata: { name, namespace: NS },
          spec,
        }),
      );
    },
    canary: (name) => must(req("GET", `${CANARIES}/${name}`)),
    vs: (name) => must(req("GET", `${VS}/${name}`)),
    events: async (name) => {
      const list = await must(req("GET", `/api/v1/namespaces/${NS}/events`));
      return (list.items as Json[]).filter((e) => e.involvedObject?.name === name);
    },
    annotate: async (name, value) => {
      const body = { metadata: { annotations: { "meshcanary.io/command": value } } };
      await must(req("PATCH", `${CANARIES}/${name}`, body, "application/merge-patch+json"));
    },
    controller: async (extra = {}) => {
      const c = await startController({
        kubeconfigText: api.kubeconfig(),
        namespace: NS,
        telemetry: {
          port: 0,
          host: "127.0.0.1",
          ...(extra.telemetryIdentity ? { identity: extra.telemetryIdentity } : {}),
        },
        leaderElection: {
          enabled: extra.leaderElection ?? false,
          namespace: leaseNamespace,
          name: "meshcanary-controller",
          identity: extra.identity ?? "test",
          leaseDurationSeconds: 2,
          retryPeriodMs: 200,
        },
        tickMs: 200,
        webhooks: false,
        ...(extra.api ? { api: extra.api } : {}),
        ...(extra.statusCheckpointMs !== undefined ? { statusCheckpointMs: extra.statusCheckpointMs } : {}),
        ...(extra.maxRoutes !== undefined ? { maxRoutes: extra.maxRoutes } : {}),
        logger: pino({ level: "silent" }),
      });
      running.push(c);
      return c;
    },
    close: async () => {
      for (const c of running) await c.close();
      await api.close();
    },
  };
}

/** Resolves when cond() holds; rejects after limitMs naming what was awaited (a bound, not a timing assertion). */
export async function until<T>(
  what: string,
  cond: () => Promise<T | undefined | false>,
  limitMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the canary's Events include every reason: the controller records an Event after the
 * status write it belongs to, so a test that has just seen the status may list Events too early. */
export async function eventsInclude<A extends WorldApi>(
  world: World<A>,
  canary: string,
  reasons: string[],
): Promise<void> {
  await until(
    `Events ${reasons.join(", ")} for ${canary}`,
    async () => {
      const seen = new Set((await world.events(canary)).map((e: Json) => e.reason as string));
      return reasons.every((r) => seen.has(r));
    },
    10_000,
  );
}

/** Weights (percent) of the VirtualService's target route by subset. */
export function targetWeights(vs: Json): Record<string, number> {
  const http = vs.spec.http as Json[];
  const target = http.find((r) => r.name === "primary");
  const out: Record<string, number> = {};
  for (const d of target.route) out[d.destination.subset] = d.weight ?? 100;
  return out;
}

export function healthySpec(steps: number[], extra: Record<string, unknown> = {}) {
  return {
    host: "reviews",
    virtualService: { name: "reviews" },
    stable: { subset: "v1" },
    canary: { subset: "v2" },
    strategy: { canary: { steps: steps.map((weight) => ({ weight })) } },
    analysis: { minStepDuration: "2s", minRequests: 50 },
    ...extra,
  };
}

/** Filters reporting Canary `name` healthy (2000 req/s, no failures, every 200 ms) to a controller. */
export function healthyReporter(telemetryPort: number, name: string): ReporterSim {
  return startReporterSim({
    address: `127.0.0.1:${telemetryPort}`,
    canary: `${NS}/${name}`,
    rps: 2000,
    failureRate: { stable: 0, canary: 0 },
    intervalMs: 200,
  });
}

/** A Runner with no mesh objects (every VirtualService and HTTPRoute is missing); status patches go to `writeStatus`. */
export function offlineRunner(
  writeStatus: StatusWriter = async () => undefined,
  /** Every VirtualService read waits for what this returns, when a promise (a slow API server). */
  hold: (name: string) => Promise<void> | undefined = () => undefined,
): Runner {
  const notFound = fail<never>({ reason: "NotFound", code: 404, message: "not found" });
  return new Runner({
    store: {
      get: async (_, name) => {
        await hold(name);
        return notFound;
      },
      replace: async () => notFound,
      listDestinationRuleSubsets: async () => ok(["v1", "v2"]),
    },
    httpRoutes: { get: async () => notFound, replace: async () => notFound },
    writeStatus,
    writeFinalizers: async () => undefined,
    recorder: { record: async () => ok({ name: "e", count: 1 }) },
    notifier: nullNotifier,
    logger: pino({ level: "silent" }),
  });
}
