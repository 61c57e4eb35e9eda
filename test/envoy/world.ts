// The conformance world: the compiled filter in a data plane (real Envoy or the TypeScript sidecar,
// same inputs), upstreams per DestinationRule subset that answer as each request asks and record
// what they saw, and the real telemetry server the filter streams to and takes Directives from.
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { describe } from "vitest";
import { DirectiveSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { startTelemetryServer, type TelemetryServer } from "../../controller/telemetry/index.js";
import { emptySketch, mergeInto, quantile } from "../../controller/telemetry/sketch.js";
import type { Sketch } from "../../controller/telemetry/sketch.js";
import { type DataPlane, type DataPlaneKind, startDataPlane } from "../../sandbox/data-plane.js";
import { repoRoot } from "../../sandbox/demo/manifests.js";
import { findEnvoy } from "../../sandbox/envoy/binary.js";
import type { MeshView } from "../../sandbox/envoy/istio-xds.js";
import type { FailurePolicy } from "../../sandbox/host/index.js";
import { sleep, waitFor } from "../stream/harness.js";

export const ROOT = repoRoot();
export const HOST = "reviews.default.svc.cluster.local";
export const OTHER = "other.default.svc.cluster.local";
export const CANARY = "default/reviews";
export const CLUSTER = "outbound|9090||meshcanary-controller.meshcanary-system.svc.cluster.local";
export const VARIANT = "x-meshcanary-variant";
export const INTERVAL_MS = 1000;
/** Variants in filter order: "dead" (weight 0, pinned only) leads to a subset nobody listens on. */
export const VARIANTS = ["stable", "dead", "canary"] as const;

const ENVOY = findEnvoy(ROOT);

const PLANE_KINDS: readonly DataPlaneKind[] = ["envoy", "sandbox"];

/**
 * The planes to run, from MESHCANARY_PLANES (comma-separated; default both). The oldest-Envoy run
 * (`make test-envoy-oldest`) sets "envoy": the TypeScript sidecar does not depend on the Envoy
 * version and already ran in the main run.
 */
export function selectedPlanes(value: string | undefined): readonly DataPlaneKind[] {
  if (value === undefined || value.trim() === "") return PLANE_KINDS;
  const names = value.split(",").map((s) => s.trim());
  const unknown = names.filter((n) => !PLANE_KINDS.includes(n as DataPlaneKind));
  if (unknown.length > 0)
    throw new Error(
      `MESHCANARY_PLANES: unknown plane ${JSON.stringify(unknown[0])} in "${value}"; known: envoy, sandbox`,
    );
  return PLANE_KINDS.filter((k) => names.includes(k));
}

/**
 * One describe block per data plane. Envoy is skipped only outside CI when it is not installed
 * (`make test` installs it first); in CI a missing Envoy fails the suite.
 */
export function describeEachPlane(name: string, body: (kind: DataPlaneKind) => void): void {
  for (const kind of selectedPlanes(process.env.MESHCANARY_PLANES)) {
    const skip = kind === "envoy" && !ENVOY.ok && !process.env.CI;
    if (skip) console.warn(`SKIPPED ${name} [envoy]: ${ENVOY.ok ? "" : ENVOY.error}`);
    describe.skipIf(skip)(`${name} [${kind}]`, () => body(kind));
  }
}

/** An upstream pod: answers as x-test-* headers ask and records every request it served. */
export interface Upstream {
  version: string;
  port: number;
  seen: IncomingHttpHeaders[];
  served: Map<number, number>;
  close(): Promise<void>;
}

export async function startUpstream(version: string): Promise<Upstream> {
  const seen: IncomingHttpHeaders[] = [];
  const served = new Map<number, number>();
  const server: Server = createServer((req, res) => {
    const status = Number(req.headers["x-test-status"] ?? 200);
    const delay = Number(req.headers["x-test-delay-ms"] ?? 0);
    const tokens = req.headers["x-test-tokens"];
    req.resume();
    setTimeout(() => {
      seen.push(req.headers);
      served.set(status, (served.get(status) ?? 0) + 1);
      res.writeHead(status, {
        "x-served-by": version,
        ...(tokens ? { "x-llm-total-tokens": String(tokens) } : {}),
      });
      res.end(version);
    }, delay);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    version,
    port: (server.address() as AddressInfo).port,
    seen,
    served,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The mesh: reviews (v1, v2 and a v3 subset with no live pod) with header routes per variant; other without. */
export function meshView(up: { v1: Upstream; v2: Upstream; other: Upstream }, deadPort: number): MeshView {
  const route = (variant: string, subset: string) => ({
    name: `meshcanary-${variant}`,
    match: [{ headers: { [VARIANT]: { exact: variant } } }],
    route: [{ destination: { host: "reviews", subset } }],
  });
  return {
    proxyNamespace: "default",
    services: [
      {
        host: HOST,
        port: 9080,
        endpoints: [
          { address: "127.0.0.1", port: up.v1.port, labels: { version: "v1" } },
          { address: "127.0.0.1", port: up.v2.port, labels: { version: "v2" } },
          { address: "127.0.0.1", port: deadPort, labels: { version: "v3" } },
        ],
      },
      { host: OTHER, port: 9080, endpoints: [{ address: "127.0.0.1", port: up.other.port, labels: {} }] },
    ],
    virtualServices: [
      {
        namespace: "default",
        name: "reviews",
        spec: {
          hosts: ["reviews"],
          http: [
            route("canary", "v2"),
            route("dead", "v3"),
            route("stable", "v1"),
            { name: "primary", route: [{ destination: { host: "reviews", subset: "v1" } }] },
          ],
        },
      },
      {
        namespace: "default",
        name: "other",
        spec: { hosts: ["other"], http: [{ route: [{ destination: { host: "other" } }] }] },
      },
    ],
    destinationRules: [
      {
        namespace: "default",
        name: "reviews",
        host: HOST,
        subsets: ["v1", "v2", "v3"].map((v) => ({ name: v, labels: { version: v } })),
      },
    ],
  };
}

/** The route as the plugin config gives it (JSON; Directives carry the same with weightBp). */
export function route(canaryBp: number) {
  return {
    host: HOST,
    canary: CANARY,
    variants: [
      { name: "stable", weight: 10000 - canaryBp },
      { name: "dead", weight: 0 },
      { name: "canary", weight: canaryBp },
    ],
    sticky: { header: "x-user-id" },
    cohort: "conformance",
    metrics: [{ name: "tokens", header: "x-llm-total-tokens" }],
  };
}

export interface World {
  kind: DataPlaneKind;
  plane: DataPlane;
  server: TelemetryServer;
  up: { v1: Upstream; v2: Upstream; other: Upstream };
  /** Sends a Directive with these canary weights (basis points); resolves once the proxy applies it. */
  setCanaryWeight(bp: number, extra?: RouteExtra): Promise<void>;
  /** Sends such a Directive and resolves at once (the caller watches the traffic). */
  publishCanaryWeight(bp: number): void;
  /** Replaces the telemetry server (a controller restart on the same port). */
  restartServer(): Promise<TelemetryServer>;
  close(): Promise<void>;
}

/** Directive route fields beyond the weights. */
export interface RouteExtra {
  slowThresholds?: { variant: string; thresholdUs: number }[];
}

export interface WorldOptions {
  wasmPath?: string;
  failurePolicy?: FailurePolicy;
  workers?: number;
  canaryBp?: number;
}

async function unusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function telemetry(port: number): Promise<TelemetryServer> {
  return startTelemetryServer({ address: `127.0.0.1:${port}`, isKnownCanary: (id) => id === CANARY });
}

export async function startWorld(kind: DataPlaneKind, opts: WorldOptions = {}): Promise<World> {
  const up = {
    v1: await startUpstream("v1"),
    v2: await startUpstream("v2"),
    other: await startUpstream("other"),
  };
  let server = await telemetry(0);
  const deadPort = await unusedPort();
  const pluginConfig = JSON.stringify({
    controller: { cluster: CLUSTER, intervalMs: INTERVAL_MS },
    routes: [route(opts.canaryBp ?? 1000)],
  });
  const plane = await startDataPlane({
    kind,
    root: ROOT,
    wasmPath: opts.wasmPath,
    pluginConfig,
    node: { pod: "client-0", namespace: "default", workload: "client" },
    failurePolicy: opts.failurePolicy ?? "FAIL_OPEN",
    controller: { cluster: CLUSTER, address: "127.0.0.1", port: server.port },
    mesh: () => meshView(up, deadPort),
    workers: opts.workers ?? 2,
  });
  let version = 0;
  const publish = (bp: number, extra: RouteExtra = {}) => {
    version++;
    const r = route(bp);
    const variants = r.variants.map((v) => ({ name: v.name, weightBp: v.weight }));
    const slowThresholds = (extra.slowThresholds ?? []).map((t) => ({
      variant: t.variant,
      thresholdUs: BigInt(t.thresholdUs),
    }));
    const err = server.publish(
      create(DirectiveSchema, { version: BigInt(version), routes: [{ ...r, variants, slowThresholds }] }),
    );
    if (err) throw err;
  };
  return {
    kind,
    plane,
    get server() {
      return server;
    },
    up,
    publishCanaryWeight: publish,
    async setCanaryWeight(bp, extra) {
      publish(bp, extra);
      await waitFor(
        () => [...server.reader.routingVersions().values()].some((v) => v >= version),
        `routing version ${version}`,
        10_000,
      );
    },
    async restartServer() {
      const port = server.port;
      await server.close();
      server = await telemetry(port);
      return server;
    },
    async close() {
      await plane.close();
      await server.close();
      await Promise.all(Object.values(up).map((u) => u.close()));
    },
  };
}

export interface Reply {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
  ms: number;
}

/** One HTTP/1.1 request through the data plane (node:http, so Host can be set). */
export function send(plane: DataPlane, headers: Record<string, string>, path = "/"): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: plane.port, path, headers: { host: HOST, ...headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            headers: res.headers,
            ms: performance.now() - started,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** What the controller holds for one variant, summed over every window. */
export interface VariantTotals {
  requests: number;
  failures: number;
  status2xx: number;
  status4xx: number;
  status5xx: number;
  statusNone: number;
  tokens: number;
  latencyUs: Sketch;
}

export function totals(server: TelemetryServer, variant: string): VariantTotals {
  const out: VariantTotals = {
    requests: 0,
    failures: 0,
    status2xx: 0,
    status4xx: 0,
    status5xx: 0,
    statusNone: 0,
    tokens: 0,
    latencyUs: emptySketch(),
  };
  for (const w of server.reader.series(CANARY, 0, Number.MAX_SAFE_INTEGER)) {
    const s = w.variants.get(variant);
    if (!s) continue;
    out.requests += s.requests;
    out.failures += s.failures;
    out.status2xx += s.status2xx;
    out.status4xx += s.status4xx;
    out.status5xx += s.status5xx;
    out.statusNone += s.statusNone;
    out.tokens += s.metrics.get("tokens")?.sum ?? 0;
    mergeInto(out.latencyUs, s.latencyUs);
  }
  return out;
}

export { quantile, sleep, waitFor };
