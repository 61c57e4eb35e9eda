/**
 * The demo end to end, shortened: the real compiled filter in the 2-worker sidecar, the real
 * controller, the embedded Kubernetes API and live traffic. A healthy canary must be promoted, a
 * faulty one rolled back automatically, with no user moved canary→stable before the rollback.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../sandbox/demo/environment.js";
import type { Manifest } from "../../sandbox/demo/kube-objects.js";
import { type DemoReport, type DemoResult, runDemo } from "../../sandbox/demo/run-demo.js";

const WASM = "build/meshcanary.wasm";
const dir = mkdtempSync(join(tmpdir(), "meshcanary-demo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface HttpRoute {
  name?: string;
  route?: { destination: { subset?: string }; weight?: number }[];
}

async function routes(sandbox: Sandbox, name: string): Promise<HttpRoute[]> {
  const vs = await sandbox.kube.get("networking.istio.io/v1", "VirtualService", "default", name);
  if (!vs || vs instanceof Error) throw new Error(`VirtualService default/${name}: ${String(vs)}`);
  return ((vs as Manifest).spec as { http: HttpRoute[] }).http;
}

/** Subset -> weight of the route's destinations (a single destination carries 100). */
function split(route: HttpRoute | undefined): Record<string, number> {
  const dests = route?.route ?? [];
  return Object.fromEntries(
    dests.map((d) => [d.destination.subset ?? "", d.weight ?? (dests.length === 1 ? 100 : 0)]),
  );
}

async function canaryRequests(sandbox: Sandbox, canary: string): Promise<number> {
  const stats = await sandbox.dataPlane.metrics();
  return stats.get(`wasmcustom.meshcanary_requests__default__${canary}__canary`) ?? 0;
}

describe.skipIf(!existsSync(WASM))("meshcanary demo (shortened)", () => {
  it("promotes the healthy canary, rolls back the faulty one, and reports the timeline", async () => {
    const lines: string[] = [];
    const seen: {
      healthyRoutes?: HttpRoute[];
      faultyRoutes?: HttpRoute[];
      canaryDuringCheck?: [number, number];
    } = {};
    const reportPath = join(dir, "report.json");
    const result: DemoResult = await runDemo({
      scenario: "both",
      speed: 4,
      weights: [25, 50],
      faultAtStep: 1,
      fault: { kind: "error-rate", rate: 0.05 },
      rps: 300,
      users: 2000,
      warmupMs: 2000,
      timeoutMs: 75_000,
      reportPath,
      kubeconfigPath: join(dir, "kubeconfig"),
      out: { write: (t) => lines.push(t), isTTY: false },
      inspect: async (sandbox) => {
        seen.healthyRoutes = await routes(sandbox, "reviews");
        seen.faultyRoutes = await routes(sandbox, "ratings");
        // The filters route nobody to the rolled-back canary any more: its counter stands still.
        const before = await canaryRequests(sandbox, "ratings");
        await new Promise((r) => setTimeout(r, 1500));
        seen.canaryDuringCheck = [before, await canaryRequests(sandbox, "ratings")];
      },
    });
    const output = lines.join("");
    expect(result.reason, output).toBeUndefined();
    expect(result.ok).toBe(true);

    const [healthy, faulty] = result.states;
    expect(healthy?.phase).toBe("Succeeded");
    expect(healthy?.maxStep).toBe(1);
    expect(faulty?.phase).toBe("RolledBack");
    expect(faulty?.faultInjectedMs).toBeDefined();
    expect(faulty?.rollbackMs).toBeGreaterThan(faulty?.faultInjectedMs ?? Number.POSITIVE_INFINITY);
    for (const s of result.states) expect(s.flipsBeforeRollback, s.plan.name).toBe(0);

    // The controller's routes are gone; the user's route points at the promoted / original subset.
    expect(seen.healthyRoutes?.map((r) => r.name)).toEqual(["primary"]);
    expect(split(seen.healthyRoutes?.[0])).toEqual({ v2: 100 });
    expect(seen.faultyRoutes?.map((r) => r.name)).toEqual(["primary"]);
    expect(split(seen.faultyRoutes?.[0])).toEqual({ v1: 100 });
    const [before, after] = seen.canaryDuringCheck ?? [0, -1];
    expect(before).toBeGreaterThan(0);
    expect(after).toBe(before);

    const report = JSON.parse(readFileSync(reportPath, "utf8")) as DemoReport;
    expect(report.ok).toBe(true);
    expect(report.summary.map((r) => [r.scenario, r.outcome, r.flipsBeforeRollback])).toEqual([
      ["healthy", "Succeeded", 0],
      ["faulty", "RolledBack", 0],
    ]);
    const kinds = (name: string) =>
      new Set(
        report.scenarios.find((s) => s.name === name)?.timeline.map((e) => (e as { kind: string }).kind),
      );
    // A decision is folded into the transition it made (one line each); one left alone stays an event.
    expect([...kinds("healthy")].filter((k) => k !== "decision").sort()).toEqual([
      "canary-applied",
      "sample",
      "transition",
    ]);
    const decided = report.scenarios
      .flatMap((s) => s.timeline)
      .filter((e) => (e as { decision?: unknown }).decision);
    expect(decided.length).toBeGreaterThan(0);
    expect(kinds("faulty")).toContain("fault");
    const faultyTransitions = report.scenarios
      .find((s) => s.name === "faulty")
      ?.timeline.filter((e) => (e as { kind: string }).kind === "transition")
      .map((e) => (e as { to: string }).to);
    expect(faultyTransitions?.slice(-2)).toEqual(["RollingBack", "RolledBack"]);

    expect(output).toMatch(/^scenario\s+outcome\s+expected/m);
    // The checks come first; every progress line fits a 100-column terminal.
    expect(output.indexOf("checks, canary against stable")).toBeLessThan(output.indexOf("Canary applied"));
    const progress = output.split("\n").filter((l) => /^\+\s*\d+\.\ds /.test(l));
    expect(progress.length).toBeGreaterThan(5);
    for (const line of progress) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(output).toContain(
      "OK: healthy canary Succeeded, faulty canary RolledBack, as expected; no user moved canary→stable before a rollback.",
    );
  }, 100_000);
});
