// Issue #14, "no single reporter decides", through the whole controller: real gRPC streams of
// reporters holding controller-issued credentials (so each is who it says it is), the embedded
// Kubernetes API, the reconciler. A compromised proxy reporting as itself can delay a verdict the
// honest proxies' data do not support, never make it; honest traffic from several proxies still
// decides both ways.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningController } from "../../controller/app/controller.js";
import { issueReporterCredential } from "../../controller/security/reporter-credential.js";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import { healthySpec, type Json, NS, startWorld, until, type World } from "./harness.js";

const SECRET = "forged-reporters-test-secret-0123456789abcdef";
const HOSTS = ["promote", "rollback", "healthy", "faulty"];

let world: World;
let controller: RunningController;
const sims: ReporterSim[] = [];

function reporter(canary: string, pod: string, rps: number, failureRate: { stable: number; canary: number }) {
  const sim = startReporterSim({
    address: `127.0.0.1:${controller.telemetryPort}`,
    token: issueReporterCredential(SECRET, { namespace: NS, pod }),
    canary: `${NS}/${canary}`,
    pod,
    rps,
    failureRate,
    intervalMs: 200,
  });
  sims.push(sim);
  return sim;
}

/**
 * Each honest proxy's rate. The decisions wait on evidence (canary requests), so a higher synthetic
 * rate decides sooner; the forgers' rates below scale with it, keeping their share of the pool.
 */
const HONEST_RPS = 900;

/** Three honest proxies calling `canary`'s host. */
function honest(canary: string, failureRate: { stable: number; canary: number }) {
  for (let i = 0; i < 3; i++) reporter(canary, `${canary}-client-${i}`, HONEST_RPS, failureRate);
}

const spec = (host: string) =>
  healthySpec([20, 50], {
    host,
    virtualService: { name: host },
    analysis: { minStepDuration: "2s", minRequests: 50, blockDuration: "1s" },
  });

const analysisMessage = (c: Json): string =>
  c.status?.conditions?.find((x: Json) => x.type === "AnalysisPassing")?.message ?? "";

beforeAll(async () => {
  world = await startWorld(HOSTS);
  controller = await world.controller({ telemetryIdentity: { kind: "credentials", secret: SECRET } });
  for (const host of HOSTS) await world.createCanary(host, spec(host));
  // The canary fails 20% of requests; the forger claims ~55 times the honest traffic in good canary
  // requests (and a bad stable) so that the pooled data pass.
  honest("promote", { stable: 0, canary: 0.2 });
  reporter("promote", "forger-0", (HONEST_RPS * 500) / 3, { stable: 0.05, canary: 0 });
  // A healthy canary; the forger, with a ninth of the honest traffic, reports every canary request as failed.
  honest("rollback", { stable: 0, canary: 0 });
  reporter("rollback", "forger-1", HONEST_RPS / 3, { stable: 0, canary: 1 });
  honest("healthy", { stable: 0, canary: 0 });
  honest("faulty", { stable: 0, canary: 0.2 });
}, 30_000);
afterAll(async () => {
  for (const s of sims) s.close();
  await world.close();
});

describe("a forged reporter can delay a decision, not make one", () => {
  it("honest reporters still decide: a healthy canary succeeds, a faulty one rolls back", async () => {
    await until(
      "healthy Succeeded",
      async () => (await world.canary("healthy")).status?.phase === "Succeeded",
      60_000,
    );
    await until(
      "faulty RolledBack",
      async () => (await world.canary("faulty")).status?.phase === "RolledBack",
      60_000,
    );
  }, 70_000);

  it("a forger's good canary traffic does not promote a canary failing 20%", async () => {
    const held = await until(
      "promotion held or made",
      async () => {
        const c = await world.canary("promote");
        return analysisMessage(c).includes("pass held") || c.status?.step > 0 || decided(c) ? c : undefined;
      },
      30_000,
    );
    expect(held.status.step).toBe(0);
    expect(analysisMessage(held)).toContain(`it rests on ${NS}/forger-0; without it the analysis is`);
    // Long after the honest-only canaries were decided, still at the first step, never promoted.
    await new Promise((r) => setTimeout(r, 5000));
    const c = await world.canary("promote");
    expect(c.status.phase).toBe("Progressing");
    expect(c.status.step).toBe(0);
    expect(targetCanaryWeight(await world.vs("promote"))).toBe(20);
  }, 60_000);

  it("a forger's failures do not roll back a healthy canary", async () => {
    const held = await until(
      "rollback held or made",
      async () => {
        const c = await world.canary("rollback");
        return analysisMessage(c).includes("fail held") || decided(c) ? c : undefined;
      },
      30_000,
    );
    expect(decided(held)).toBe(false);
    expect(analysisMessage(held)).toContain(`it rests on ${NS}/forger-1; without it the analysis is`);
    await new Promise((r) => setTimeout(r, 5000));
    const c = await world.canary("rollback");
    expect(["Progressing", "Paused"]).toContain(c.status.phase);
    expect((c.status.history as Json[]).some((h) => h.to === "RollingBack")).toBe(false);
  }, 60_000);
});

/** Whether the rollout reached a verdict's phase. */
function decided(c: Json): boolean {
  return ["Succeeded", "RollingBack", "RolledBack"].includes(c.status?.phase);
}

function targetCanaryWeight(vs: Json): number {
  const route = (vs.spec.http as Json[]).find((r) => r.name === "primary");
  return route.route.find((d: Json) => d.destination.subset === "v2")?.weight ?? 0;
}
