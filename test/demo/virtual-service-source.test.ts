import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../sandbox/cli.js";
import { loadKubeConfig } from "../../controller/kube/client.js";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { kubeRest, type Manifest } from "../../sandbox/demo/kube-objects.js";
import { repoRoot, stageManifests } from "../../sandbox/demo/manifests.js";
import {
  startVirtualServiceSource,
  type VirtualServiceSource,
} from "../../sandbox/sidecar/virtual-service-source.js";

let api: KubeApiServer;
let source: VirtualServiceSource;
const changes: number[] = [];

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  api = await startKubeApi({ port: 0 });
  const kube = kubeRest(api.kubeconfig());
  for (const m of stageManifests(repoRoot(), ["reviews"])) {
    const applied = await kube.apply(m);
    if (applied instanceof Error) throw applied;
  }
  const kc = loadKubeConfig({ kubeconfigText: api.kubeconfig() });
  if ("error" in kc) throw new Error(kc.error);
  const started = await startVirtualServiceSource(kc);
  if (!started.ok) throw new Error(started.error);
  source = started.value;
  source.onChange(() => changes.push(Date.now()));
});

afterAll(async () => {
  await source?.close();
  await api?.close();
});

describe("startVirtualServiceSource", () => {
  it("holds the applied sample VirtualService and DestinationRule", () => {
    expect(source.virtualServices()).toEqual([
      {
        hosts: ["reviews"],
        http: [
          {
            name: "primary",
            route: [{ destination: { host: "reviews", subset: "v1", port: { number: 9080 } } }],
          },
        ],
      },
    ]);
    expect(source.destinationRules()).toEqual([
      {
        namespace: "default",
        name: "reviews",
        host: "reviews.default.svc.cluster.local",
        subsets: [
          { name: "v1", labels: { version: "v1" } },
          { name: "v2", labels: { version: "v2" } },
        ],
      },
    ]);
  });

  it("follows updates and deletions through the watch", async () => {
    const kube = kubeRest(api.kubeconfig());
    const vs = await kube.get("networking.istio.io/v1", "VirtualService", "default", "reviews");
    if (!vs || vs instanceof Error) throw new Error("sample VirtualService missing");
    const spec = vs.spec as { http: { route: { destination: { subset: string } }[] }[] };
    spec.http[0]!.route[0]!.destination.subset = "v2";
    const before = changes.length;
    const replaced = await kube.apply(vs as Manifest);
    expect(replaced).not.toBeInstanceOf(Error);
    await until(
      "the update",
      () => source.virtualServices()[0]?.http?.[0]?.route?.[0]?.destination.subset === "v2",
    );
    expect(changes.length).toBeGreaterThan(before);

    const res = await fetch(
      `${api.url}/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews`,
      {
        method: "DELETE",
        headers: { authorization: `Bearer ${api.token}` },
      },
    );
    expect(res.status).toBe(200);
    await until("the deletion", () => source.virtualServices().length === 0);
  });
});

describe("meshcanary demo flags", () => {
  it.each([
    [
      ["demo", "--scenario", "sideways"],
      '--scenario: expected healthy, faulty, both, llm, blue-green, ab-test, shadow, got "sideways"',
    ],
    [["demo", "--speed", "0"], '--speed: expected a positive number, got "0"'],
    [["demo", "--rps", "1.5"], '--rps: expected a positive integer, got "1.5"'],
    [
      ["demo", "--fault", "cpu=1"],
      '--fault: expected error-rate=<0..1 or N%> or latency=+<N>ms, got "cpu=1"',
    ],
  ])("rejects %j with exit 2 before starting anything", async (argv, message) => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args.join(" "));
    try {
      expect(await main(argv)).toBe(2);
    } finally {
      console.error = original;
    }
    expect(errors.join("\n")).toContain(message);
  });
});
