// No variant by header without the filter, through real Envoy and the TypeScript sidecar. The
// VirtualService is the controller's own rendering (planVirtualService with the rollout's marker);
// one sidecar runs meshcanary and learns the marker from a Directive, the other runs the no-op
// filter (a namespace without meshcanary). With the canary at 0%, only a variant route reaches v2.
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DirectiveSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { planVirtualService } from "../../controller/mesh/plan-virtual-service.js";
import type { VirtualService } from "../../controller/mesh/types.js";
import { MARKER_HEADER } from "../../controller/mesh/variant-match.js";
import { startTelemetryServer, type TelemetryServer } from "../../controller/telemetry/index.js";
import { type DataPlane, type DataPlaneKind, startDataPlane } from "../../sandbox/data-plane.js";
import type { MeshView } from "../../sandbox/envoy/istio-xds.js";
import {
  CANARY,
  CLUSTER,
  describeEachPlane,
  HOST,
  ROOT,
  send,
  startUpstream,
  type Upstream,
  VARIANT,
  waitFor,
} from "./world.js";

const M1 = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const M2 = "aaaabbbbccccddddeeeeffff00001111";
const STABLE_ONLY = [
  { name: "stable", weightBp: 10000 },
  { name: "canary", weightBp: 0 },
];

/** The target VirtualService before meshcanary touches it, and the controller's plan for `marker`. */
function renderedVs(marker: string): VirtualService {
  const before: VirtualService = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "reviews", namespace: "default" },
    spec: {
      hosts: ["reviews"],
      http: [{ name: "primary", route: [{ destination: { host: "reviews", subset: "v1" } }] }],
    },
  };
  const plan = planVirtualService(before, {
    canary: CANARY,
    host: "reviews",
    active: true,
    marker,
    weights: [
      { variant: "stable", subset: "v1", weightBp: 10000 },
      { variant: "canary", subset: "v2", weightBp: 0 },
    ],
  });
  if ("error" in plan) throw new Error(plan.error);
  return plan.vs;
}

function meshView(vs: VirtualService, up: { v1: Upstream; v2: Upstream }): MeshView {
  return {
    proxyNamespace: "default",
    services: [
      {
        host: HOST,
        port: 9080,
        endpoints: [
          { address: "127.0.0.1", port: up.v1.port, labels: { version: "v1" } },
          { address: "127.0.0.1", port: up.v2.port, labels: { version: "v2" } },
        ],
      },
    ],
    virtualServices: [
      { namespace: "default", name: "reviews", spec: vs.spec as MeshView["virtualServices"][number]["spec"] },
    ],
    destinationRules: [
      {
        namespace: "default",
        name: "reviews",
        host: HOST,
        subsets: ["v1", "v2"].map((v) => ({ name: v, labels: { version: v } })),
      },
    ],
  };
}

describeEachPlane("variant routes need the rollout marker", (kind: DataPlaneKind) => {
  let up: { v1: Upstream; v2: Upstream };
  let server: TelemetryServer;
  let filtered: DataPlane;
  let unfiltered: DataPlane;
  let vs = renderedVs(M1);
  let version = 0;

  const publish = async (marker: string) => {
    version++;
    const route = { host: HOST, canary: CANARY, variants: STABLE_ONLY, cohort: "marker", marker };
    const err = server.publish(create(DirectiveSchema, { version: BigInt(version), routes: [route] }));
    if (err) throw err;
    const want = version;
    await waitFor(
      () => [...server.reader.routingVersions().values()].some((v) => v >= want),
      `routing version ${want}`,
      10_000,
    );
  };
  const rollout = async (marker: string) => {
    vs = renderedVs(marker);
    await Promise.all([filtered.update(), unfiltered.update()]);
    await publish(marker);
  };
  const servedBy = async (plane: DataPlane, headers: Record<string, string>, n = 20) => {
    const bodies = new Set<string>();
    for (let i = 0; i < n; i++) bodies.add((await send(plane, { "x-user-id": `u${i}`, ...headers })).body);
    return [...bodies].sort();
  };
  const markersSeen = (u: Upstream, from: number) => u.seen.slice(from).map((h) => h[MARKER_HEADER]);

  beforeAll(async () => {
    up = { v1: await startUpstream("v1"), v2: await startUpstream("v2") };
    server = await startTelemetryServer({ address: "127.0.0.1:0", isKnownCanary: (id) => id === CANARY });
    const common = {
      kind,
      root: ROOT,
      controller: { cluster: CLUSTER, address: "127.0.0.1", port: server.port },
      mesh: () => meshView(vs, up),
      workers: 2,
    };
    const pluginConfig = JSON.stringify({
      controller: { cluster: CLUSTER, intervalMs: 1000 },
      routes: [
        {
          host: HOST,
          canary: CANARY,
          variants: STABLE_ONLY.map((v) => ({ name: v.name, weight: v.weightBp })),
          sticky: { header: "x-user-id" },
        },
      ],
    });
    filtered = await startDataPlane({
      ...common,
      pluginConfig,
      node: { pod: "client-0", namespace: "default", workload: "client" },
    });
    unfiltered = await startDataPlane({
      ...common,
      wasmPath: `${ROOT}/build/bench/noop-filter.wasm`,
      pluginConfig: "{}",
      node: { pod: "outsider-0", namespace: "no-filter", workload: "outsider" },
    });
    await publish(M1);
  }, 60_000);
  afterAll(async () => {
    await filtered?.close();
    await unfiltered?.close();
    await server?.close();
    await Promise.all(Object.values(up ?? {}).map((u) => u.close()));
  });

  it("a client without the filter cannot pick the canary by header: it takes the weighted fallback", async () => {
    expect(await servedBy(unfiltered, { [VARIANT]: "canary" })).toEqual(["v1"]);
    expect(await servedBy(unfiltered, { [VARIANT]: "canary", [MARKER_HEADER]: M2 })).toEqual(["v1"]);
    expect(await servedBy(unfiltered, { [VARIANT]: "canary", [MARKER_HEADER]: "" })).toEqual(["v1"]);
  });

  it("filtered requests still route to their variant, and no upstream ever sees the marker", async () => {
    const n1 = up.v1.seen.length;
    const n2 = up.v2.seen.length;
    expect(await servedBy(filtered, { "x-meshcanary-pin": "canary" })).toEqual(["v2"]);
    expect(await servedBy(filtered, {})).toEqual(["v1"]);
    expect(up.v2.seen.slice(n2).map((h) => h[VARIANT])).toEqual(Array(20).fill("canary"));
    expect(markersSeen(up.v2, n2)).toEqual(Array(20).fill(undefined));
    expect(markersSeen(up.v1, n1)).toEqual(Array(20).fill(undefined));
  });

  it("the filter replaces a client-sent marker: naming a variant with the right marker through it gets nothing", async () => {
    expect(await servedBy(filtered, { [VARIANT]: "canary", [MARKER_HEADER]: M1 })).toEqual(["v1"]);
  });

  it("the marker is the key: whoever holds the current one gets through, so it is rotated per rollout", async () => {
    // Control: the VirtualService really routes on the marker (this is what a leaked marker buys).
    expect(await servedBy(unfiltered, { [VARIANT]: "canary", [MARKER_HEADER]: M1 }, 5)).toEqual(["v2"]);
    await rollout(M2);
    expect(await servedBy(unfiltered, { [VARIANT]: "canary", [MARKER_HEADER]: M1 })).toEqual(["v1"]);
    // The filter learned the new marker from the Directive: pins keep working after the rotation.
    expect(await servedBy(filtered, { "x-meshcanary-pin": "canary" })).toEqual(["v2"]);
  });
});
