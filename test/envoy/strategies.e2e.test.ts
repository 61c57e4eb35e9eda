/**
 * Every release strategy end to end through the sidecar — real Envoy, and the TypeScript sidecar
 * for shadow (whose mirroring it implements too) — with the real controller, the compiled filter and
 * live traffic, as `meshcanary demo --scenario <name>` runs them: blue-green switches one release
 * and switches the failing one back; the A/B test reports an effect with its interval, sticky by
 * user and without promotion; the shadow's copies are tallied at the receiving side, the healthy
 * one promoted into canary steps, the faulty one stopped before any user reached it.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import type { DataPlaneKind } from "../../sandbox/data-plane.js";
import type { Sandbox } from "../../sandbox/demo/environment.js";
import type { Manifest } from "../../sandbox/demo/kube-objects.js";
import { runStrategyDemo, type StrategyResult } from "../../sandbox/demo/strategy-demo.js";
import { STRATEGY_SCENARIOS } from "../../sandbox/demo/strategy-scenarios.js";
import { describeEachPlane } from "./world.js";

const dir = mkdtempSync(join(tmpdir(), "meshcanary-strategies-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Route {
  name?: string;
  route?: { destination: { subset?: string }; weight?: number }[];
  mirror?: { subset?: string };
}

async function routes(sandbox: Sandbox, name: string): Promise<Route[]> {
  const vs = await sandbox.kube.get("networking.istio.io/v1", "VirtualService", "default", name);
  if (!vs || vs instanceof Error) throw new Error(`VirtualService default/${name}: ${String(vs)}`);
  return ((vs as Manifest).spec as { http: Route[] }).http;
}

async function run(
  name: string,
  kind: DataPlaneKind,
  speed: number,
  inspect?: (sandbox: Sandbox, result: StrategyResult) => Promise<void>,
) {
  const lines: string[] = [];
  const outcome = await runStrategyDemo(name, STRATEGY_SCENARIOS[name]!, {
    speed,
    rps: 200,
    users: 1000,
    warmupMs: 2000,
    timeoutMs: 110_000,
    dataPlane: kind,
    reportPath: join(dir, `${name}-${kind}.json`),
    kubeconfigPath: join(dir, `kubeconfig-${name}-${kind}`),
    out: { write: (t) => lines.push(t), isTTY: false },
    ...(inspect ? { inspect } : {}),
  });
  return { ...outcome, output: lines.join("") };
}

const built = existsSync("build/meshcanary.wasm");

describeEachPlane("release strategies end to end", (kind) => {
  it.skipIf(!built || kind !== "envoy")(
    "blue-green: one switch kept, one switched back on a fail in the scrutiny window, each in milliseconds",
    async () => {
      const seen: Record<string, Route[]> = {};
      const r = await run("blue-green", kind, 2, async (sandbox) => {
        seen.reviews = await routes(sandbox, "reviews");
        seen.ratings = await routes(sandbox, "ratings");
      });
      expect(r.reason, r.output).toBeUndefined();
      const f = r.result.figures as Record<string, { lagMs: number; wrong: number; after: number }>;
      for (const key of ["reviews.switch", "ratings.switch", "ratings.switchBack"]) {
        expect(f[key]?.after, key).toBeGreaterThan(50);
        // Every filter switches with the Directive; a second would mean a missed push.
        expect(f[key]?.lagMs, `${key} ${JSON.stringify(f[key])}\n${r.output}`).toBeLessThan(1000);
      }
      expect(seen.reviews?.map((x) => x.route?.map((d) => d.destination.subset))).toEqual([["v2"]]);
      expect(seen.ratings?.map((x) => x.route?.map((d) => d.destination.subset))).toEqual([["v1"]]);
    },
    150_000,
  );

  it.skipIf(!built || kind !== "envoy")(
    "A/B test: the report shows v2's higher failure rate with an interval above 0, nobody changes variant, no promotion",
    async () => {
      const r = await run("ab-test", kind, 1);
      expect(r.reason, r.output).toBeUndefined();
      const report = r.result.figures.report as {
        live: boolean;
        verdict: string;
        comparisons: { name: string; effect: { estimate: number; interval: { lower: number } } }[];
      };
      expect(report.live).toBe(false);
      expect(report.verdict).not.toBe("pass");
      const failure = report.comparisons.find((c) => c.name === "failure-rate")!;
      expect(failure.effect.estimate).toBeGreaterThan(0.01);
      expect(failure.effect.interval.lower).toBeGreaterThan(0);
      expect(r.result.figures.stickiness).toMatchObject({ moved: 0 });
    },
    150_000,
  );

  it.skipIf(!built)(
    "shadow: copies tallied at the receiving side, healthy shadow promoted into canary steps, faulty one stopped unseen",
    async () => {
      const r = await run("shadow", kind, 1);
      expect(r.reason, r.output).toBeUndefined();
      const f = r.result.figures as Record<string, { shadowCopies: number; stable: number }>;
      for (const s of ["reviews", "ratings"]) expect(f[s]?.shadowCopies, s).toBeGreaterThan(300);
    },
    150_000,
  );
});
