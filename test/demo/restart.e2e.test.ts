/**
 * A controller killed mid-rollout and restarted resumes at the same step, in the whole sandbox:
 * the real compiled filter in the 2-worker sidecar, live sticky traffic, the embedded Kubernetes
 * API. While no controller runs, the filters keep routing at the step's weight; the new controller
 * (same Kubernetes API, same telemetry port the filters' cluster points at) picks up the step from
 * the Canary's status, enters every later step exactly once and promotes.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/demo/environment.js";
import { DEMO_NAMESPACE, demoCanary, repoRoot } from "../../sandbox/demo/manifests.js";

const WASM = "build/meshcanary.wasm";
const SERVICE = "reviews";
const WEIGHTS = [20, 40, 60, 80];
/** How long the rollout goes without a controller. */
const GAP_MS = 2000;

interface CanaryStatus {
  phase?: string;
  step?: number;
  weightBp?: number;
  history?: { to: string; step: number }[];
}
interface KubeEvent {
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, limitMs: number, cond: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await cond();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function status(sb: Sandbox): Promise<CanaryStatus> {
  const c = await sb.kube.get("meshcanary.io/v1alpha1", "Canary", DEMO_NAMESPACE, SERVICE);
  if (!c || c instanceof Error) throw new Error(`Canary ${DEMO_NAMESPACE}/${SERVICE}: ${String(c)}`);
  return (c.status ?? {}) as CanaryStatus;
}

async function canaryEvents(sb: Sandbox): Promise<KubeEvent[]> {
  const res = await fetch(`${sb.kubeApi.url}/api/v1/namespaces/${DEMO_NAMESPACE}/events`, {
    headers: { authorization: `Bearer ${sb.kubeApi.token}` },
  });
  const list = (await res.json()) as { items: KubeEvent[] };
  return list.items.filter((e) => e.involvedObject?.kind === "Canary" && e.involvedObject.name === SERVICE);
}

/** Answered requests and the ones v2 (the canary) served, from the load generator. */
function served(sb: Sandbox): { answered: number; canary: number; versioned: number } {
  const s = sb.load(SERVICE).stats();
  let versioned = 0;
  for (const v of s.byVersion.values()) versioned += v.requests;
  return { answered: s.answered, canary: s.byVersion.get("v2")?.requests ?? 0, versioned };
}

describe.skipIf(!existsSync(WASM))("controller restart in the sandbox", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshcanary-restart-"));
  let sb: Sandbox;

  beforeAll(async () => {
    sb = await startSandbox({
      kubeconfigPath: join(dir, "kubeconfig"),
      services: [{ name: SERVICE, versions: { v1: { errorRate: 0 }, v2: { errorRate: 0 } } }],
      load: { rps: 300, users: 2000, rampMs: 500 },
    });
  }, 20_000);
  afterAll(async () => {
    await sb?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("resumes at the same step, routes through the gap, enters each step once and succeeds", async () => {
    const canary = demoCanary(
      repoRoot(),
      SERVICE,
      WEIGHTS.map((weight) => ({ weight, pauseMs: 0 })),
    );
    const applied = await sb.kube.apply(canary);
    if (applied instanceof Error) throw applied;

    const before = await until("the rollout at its second step", 20_000, async () => {
      const s = await status(sb);
      return s.phase === "Progressing" && (s.step ?? 0) >= 1 ? s : undefined;
    });
    const step = before.step ?? -1;
    const weightPct = WEIGHTS[step] ?? Number.NaN;

    // Without a controller: traffic is still answered and split at the step's weight.
    let gap = { start: served(sb), end: served(sb), status: before };
    await sb.restartController(async () => {
      await sleep(500); // requests in flight when the controller went away settle
      const start = served(sb);
      await sleep(GAP_MS);
      gap = { start, end: served(sb), status: await status(sb) };
    });
    expect(gap.status.step).toBe(step);
    expect(gap.status.phase).toBe("Progressing");
    expect(gap.end.answered - gap.start.answered).toBeGreaterThan(100);
    const share =
      (100 * (gap.end.canary - gap.start.canary)) / Math.max(1, gap.end.versioned - gap.start.versioned);
    expect(Math.abs(share - weightPct), `canary share ${share}% at a ${weightPct}% step`).toBeLessThan(10);

    const resumed = await status(sb);
    expect(resumed.step).toBe(step);

    const done = await until("the resumed rollout to succeed", 30_000, async () => {
      const s = await status(sb);
      if (s.phase === "RolledBack" || s.phase === "Failed")
        throw new Error(`rollout ended ${s.phase}: ${JSON.stringify(s.history)}`);
      return s.phase === "Succeeded" ? s : undefined;
    });
    const entered = (done.history ?? []).filter((h) => h.to === "Progressing").map((h) => h.step);
    expect(entered).toEqual(WEIGHTS.map((_, i) => i));
    const progressing = (await canaryEvents(sb)).filter((e) => e.reason === "Progressing");
    expect(progressing.map((e) => Number(e.message?.match(/step (\d+)\//)?.[1]))).toEqual(
      WEIGHTS.map((_, i) => i + 1),
    );
    expect(served(sb).answered).toBeGreaterThan(gap.end.answered);
  }, 60_000);
});
