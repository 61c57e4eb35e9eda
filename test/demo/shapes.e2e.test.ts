/**
 * The demo's release in the Gateway API shapes (issue #16), through real Envoy where installed:
 * per shape a healthy canary promoted and a faulty one rolled back, on HTTPRoutes the controller
 * splits (header rules + weighted backendRefs) and restores, with the Envoy routes translated from
 * them the way istiod converts an HTTPRoute. Ambient runs the proxy as the namespace's waypoint
 * (its identity and the waypoint WasmPlugin's settings).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadKubeConfig } from "../../controller/kube/client.js";
import { kubeHttpRouteStore } from "../../controller/kube/http-routes.js";
import type { HttpRouteRule } from "../../controller/mesh/http-route-types.js";
import type { Sandbox } from "../../sandbox/demo/environment.js";
import type { Manifest } from "../../sandbox/demo/kube-objects.js";
import { type DemoResult, runDemo } from "../../sandbox/demo/run-demo.js";
import type { MeshShape } from "../../sandbox/demo/shapes.js";

const WASM = "build/meshcanary.wasm";
const dir = mkdtempSync(join(tmpdir(), "meshcanary-shapes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rules(sandbox: Sandbox, name: string): Promise<HttpRouteRule[]> {
  const r = await sandbox.kube.get("gateway.networking.k8s.io/v1", "HTTPRoute", "default", name);
  if (!r || r instanceof Error) throw new Error(`HTTPRoute default/${name}: ${String(r)}`);
  return ((r as Manifest).spec as { rules: HttpRouteRule[] }).rules;
}

interface Seen {
  /** The healthy HTTPRoute's rules as read every half second during the run. */
  midRun: HttpRouteRule[][];
  healthy?: HttpRouteRule[];
  faulty?: HttpRouteRule[];
  served?: Record<string, number>;
  proxy?: string;
}

/** Reads default/reviews every 500 ms through the kubeconfig the demo writes, until stopped. */
function sampleDuringRun(kubeconfig: string, into: HttpRouteRule[][]): () => void {
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 500));
      if (!existsSync(kubeconfig)) continue;
      const kc = loadKubeConfig({ kubeconfig });
      if ("error" in kc) continue;
      const read = await kubeHttpRouteStore(kc, { attempts: 1, baseDelayMs: 0 }).get("default", "reviews");
      if (read.ok) into.push(read.value.spec?.rules ?? []);
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}

describe.skipIf(!existsSync(WASM))("a whole release per Gateway API shape", () => {
  it.each<MeshShape>(["gateway-api", "ambient"])(
    "%s: promotes the healthy canary, rolls back the faulty one",
    async (shape) => {
      const seen: Seen = { midRun: [] };
      const lines: string[] = [];
      const kubeconfigPath = join(dir, `${shape}.kubeconfig`);
      const stop = sampleDuringRun(kubeconfigPath, seen.midRun);
      const result: DemoResult = await runDemo({
        shape,
        scenario: "both",
        speed: 4,
        weights: [25, 50],
        faultAtStep: 1,
        fault: { kind: "error-rate", rate: 0.05 },
        rps: 300,
        users: 2000,
        warmupMs: 2000,
        timeoutMs: 90_000,
        reportPath: join(dir, `${shape}.json`),
        kubeconfigPath,
        out: { write: (t) => lines.push(t), isTTY: false },
        inspect: async (sandbox) => {
          stop();
          seen.healthy = await rules(sandbox, "reviews");
          seen.faulty = await rules(sandbox, "ratings");
          const total = (v: string) =>
            [...sandbox.app("reviews", v).served().values()].reduce((a, b) => a + b, 0);
          seen.served = { v1: total("v1"), v2: total("v2") };
          seen.proxy = sandbox.dataPlane.label;
        },
      });
      stop();
      const output = lines.join("");
      expect(result.reason, output).toBeUndefined();
      const [healthy, faulty] = result.states;
      expect(healthy?.phase).toBe("Succeeded");
      expect(faulty?.phase).toBe("RolledBack");
      expect(faulty?.rollbackMs).toBeGreaterThan(faulty?.faultInjectedMs ?? Number.POSITIVE_INFINITY);
      for (const s of result.states) expect(s.flipsBeforeRollback, s.plan.name).toBe(0);
      expect(result.report.options.shape).toBe(shape);
      if (existsSync("build/envoy")) expect(seen.proxy).toMatch(/^Envoy /);

      // Mid-run the controller's header rules stood above the user's rule, whose backendRefs were
      // weighted in basis points between the two version Services.
      const split = seen.midRun.find((r) => r.some((x) => x.name === "meshcanary-reviews-canary"));
      // Pins need no token in the demo, so their header and cookie rules are rendered too.
      expect(split?.map((r) => r.name)).toEqual([
        "meshcanary-reviews-stable",
        "meshcanary-reviews-canary",
        "meshcanary-reviews-pin-stable",
        "meshcanary-reviews-pin-canary",
        "meshcanary-reviews-pin-cookie-stable",
        "meshcanary-reviews-pin-cookie-canary",
        "primary",
      ]);
      const weights = split?.find((r) => r.name === "primary")?.backendRefs?.map((b) => [b.name, b.weight]);
      expect([
        [
          ["reviews-v1", 7500],
          ["reviews-v2", 2500],
        ],
        [
          ["reviews-v1", 5000],
          ["reviews-v2", 5000],
        ],
      ]).toContainEqual(weights);

      // After the run the controller's rules are gone: promoted to reviews-v2, restored to ratings-v1.
      expect(seen.healthy).toEqual([
        {
          name: "primary",
          backendRefs: [{ group: "", kind: "Service", name: "reviews-v2", port: 9080, weight: 1 }],
        },
      ]);
      expect(seen.faulty).toEqual([{ name: "primary", backendRefs: [{ name: "ratings-v1", port: 9080 }] }]);
      // Traffic reached both version Services through the HTTPRoute's backends.
      expect(seen.served?.v1).toBeGreaterThan(0);
      expect(seen.served?.v2).toBeGreaterThan(0);
    },
    130_000,
  );
});
