/**
 * Time to roll back (DESIGN §7): the whole sandbox (embedded Kubernetes API, controller, the filter
 * in a 2-worker sidecar, stable and canary apps, a sticky-user load generator). The canary sits at
 * 50% with both versions failing 1% of requests; at a known instant the canary app starts failing
 * 5%. Measured from that onset: the controller's decision (status → RollingBack), the
 * VirtualService write, and every filter worker routing 0% canary — found with a probe user in the
 * top sticky bucket, who is on the canary at any non-zero weight.
 *
 * Baseline: the Flagger-style rule (defaults: 60 s interval, 1% threshold, 5 failed checks) on
 * simulated traffic with the same rates, the onset at a random point of its check interval
 * (the real rollout stops the faulty canary long before such a rule would have data to judge).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { flaggerRollbackTime } from "../controller/analysis/flagger-rule.js";
import { mulberry32 } from "../controller/analysis/simulate.js";
import { BUCKETS, stickyBucket } from "../controller/mesh/sticky-hash.js";
import { type Sandbox, STICKY_HEADER, startSandbox } from "../sandbox/demo/environment.js";
import { DEMO_NAMESPACE, demoCanary } from "../sandbox/demo/manifests.js";
import type { Manifest } from "../sandbox/demo/kube-rest.js";
import { simulate, toWindows } from "./false-rollbacks.js";
import { type Bench, type BenchContext, type BenchEntry, entry } from "./results.js";

const SERVICE = "reviews";
const COHORT = `${SERVICE}-demo`;
const CANARY_WEIGHT_PCT = 50;
const BASE_FAILURE = 0.01;
const FAULT_FAILURE = 0.05;
/** DESIGN §7: onset to the filters routing 100% stable. */
const GOAL_S = 5;
const POLL_MS = 50;

/** A user key in the given sticky bucket of the cohort (searched deterministically). */
export function userInBucket(cohort: string, bucket: number): string {
  for (let i = 0; ; i++) if (stickyBucket(cohort, `probe-${i}`) === bucket) return `probe-${i}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The variant the filter on `worker` gives `user`. */
function probe(sb: Sandbox, worker: number, user: string): string | undefined {
  const r = sb.host.request(
    {
      request: {
        headers: [
          [":authority", sb.hostOf(SERVICE)],
          [":path", "/probe"],
          [STICKY_HEADER, user],
        ],
      },
      response: { status: 200 },
      durationNs: 1_000_000,
    },
    worker,
  );
  return r.requestHeaders.find(([k]) => k === "x-meshcanary-variant")?.[1];
}

function canaryManifest(): Manifest {
  const m = demoCanary(resolve("."), SERVICE, [{ weight: CANARY_WEIGHT_PCT, pauseMs: 30 * 60_000 }], {
    minRequests: 100,
    minStepMs: 1000,
    maxFailurePercent: 2,
    latencyQuantile: 0.9,
    maxLatencyMs: 100,
  });
  const spec = m.spec as { analysis: { checks: unknown[] } };
  spec.analysis.checks = [{ name: "failure-rate", failureRate: { max: 2 } }];
  return m;
}

async function status(sb: Sandbox): Promise<{ phase?: string; stepStartedAt?: string } | undefined> {
  const c = await sb.kube.get("meshcanary.io/v1alpha1", "Canary", DEMO_NAMESPACE, SERVICE);
  return c && !(c instanceof Error) ? (c.status as { phase?: string; stepStartedAt?: string }) : undefined;
}

/** Whether any unmatched (weighted) route of the VirtualService still sends traffic to subset v2. */
async function vsRoutesCanary(sb: Sandbox): Promise<boolean | undefined> {
  const vs = await sb.kube.get("networking.istio.io/v1", "VirtualService", DEMO_NAMESPACE, SERVICE);
  if (!vs || vs instanceof Error) return undefined;
  type Route = { match?: unknown[]; route?: { destination: { subset?: string }; weight?: number }[] };
  const http = ((vs.spec as { http?: Route[] }).http ?? []).filter((r) => !r.match || r.match.length === 0);
  return http.some((r) =>
    (r.route ?? []).some((d) => d.destination.subset === "v2" && (d.weight ?? 100) > 0),
  );
}

/** Seconds from onset to each milestone, or null when it did not happen within the limit. */
export interface RollbackTimes {
  decisionS: number | null;
  virtualServiceS: number | null;
  filtersS: number | null;
}

async function waitFor(what: string, limitMs: number, ok: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`rollback-time: timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** One rollout: healthy at 50% for `healthyMs`, then the fault; milestones within `limitMs`. */
async function measureOnce(canaryRps: number, healthyMs: number, limitMs: number): Promise<RollbackTimes> {
  const dir = mkdtempSync(join(tmpdir(), "meshcanary-rollback-"));
  const sb = await startSandbox({
    root: resolve("."),
    kubeconfigPath: join(dir, "kubeconfig"),
    services: [
      { name: SERVICE, versions: { v1: { errorRate: BASE_FAILURE }, v2: { errorRate: BASE_FAILURE } } },
    ],
    load: { rps: (canaryRps * 100) / CANARY_WEIGHT_PCT, users: 2000 },
  });
  try {
    const applied = await sb.kube.apply(canaryManifest());
    if (applied instanceof Error) throw applied;
    const canaryUser = userInBucket(COHORT, BUCKETS - 1);
    const stableUser = userInBucket(COHORT, 0);
    await waitFor("the canary step in force", 60_000, async () => {
      const s = await status(sb);
      return s?.phase === "Progressing" && s.stepStartedAt !== undefined;
    });
    await waitFor("both workers routing the probe user to the canary", 30_000, () =>
      [0, 1].every((w) => probe(sb, w, canaryUser) !== probe(sb, w, stableUser)),
    );
    const canaryVariant = probe(sb, 0, canaryUser);
    await sleep(healthyMs);
    const before = await status(sb);
    if (before?.phase !== "Progressing")
      throw new Error(`rollback-time: A/A phase left Progressing: ${before?.phase}`);

    sb.app(SERVICE, "v2").set({ errorRate: FAULT_FAILURE });
    const onset = Date.now();
    const times: RollbackTimes = { decisionS: null, virtualServiceS: null, filtersS: null };
    const since = () => (Date.now() - onset) / 1000;
    while (Date.now() - onset < limitMs && Object.values(times).some((v) => v === null)) {
      // Probes are tallied like any request, so they start only once the decision is made: before
      // it they would dilute the canary's failures, and no filter can route 0% before it anyway.
      const decided = times.decisionS !== null;
      if (
        decided &&
        times.filtersS === null &&
        [0, 1].every((w) => probe(sb, w, canaryUser) !== canaryVariant)
      ) {
        times.filtersS = since();
      }
      if (
        times.decisionS === null &&
        ["RollingBack", "RolledBack"].includes((await status(sb))?.phase ?? "")
      ) {
        times.decisionS = since();
      }
      if (times.virtualServiceS === null && (await vsRoutesCanary(sb)) === false)
        times.virtualServiceS = since();
      await sleep(POLL_MS);
    }
    return times;
  } finally {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median seconds from onset to a Flagger-defaults rollback on simulated traffic with the same rates. */
export function flaggerSeconds(canaryRps: number, runs: number): number {
  const rng = mulberry32(42);
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Onset at a uniformly random point within a check interval, after 10 healthy minutes.
    const onset = 600 + Math.floor(rng() * 60);
    const healthy = simulate({
      seed: 900 + i,
      seconds: onset,
      rps: (canaryRps * 100) / CANARY_WEIGHT_PCT,
      stableRate: BASE_FAILURE,
      canaryRate: BASE_FAILURE,
      schedule: [{ atSecond: 0, canaryWeight: CANARY_WEIGHT_PCT / 100 }],
      sharedNoise: 0,
    });
    const faulty = simulate({
      seed: 1900 + i,
      seconds: 1200,
      rps: (canaryRps * 100) / CANARY_WEIGHT_PCT,
      stableRate: BASE_FAILURE,
      canaryRate: FAULT_FAILURE,
      schedule: [{ atSecond: 0, canaryWeight: CANARY_WEIGHT_PCT / 100 }],
      sharedNoise: 0,
    });
    const windows = toWindows([...healthy, ...faulty]);
    // Flagger's failed-check count starts with the analysis; only checks from the onset on count.
    const at = flaggerRollbackTime(
      windows,
      "canary",
      onset * 1000 - (onset % 60) * 1000,
      windows.length * 1000,
    );
    if (at !== null) out.push(at / 1000 - onset);
  }
  out.sort((a, b) => a - b);
  return out.length ? out[out.length >> 1] : Number.NaN;
}

function sizes(ctx: BenchContext) {
  if (ctx.mode === "full") return { rps: [100, 10], healthyMs: 15_000, limitMs: 120_000 };
  return { rps: [100], healthyMs: 5000, limitMs: 60_000 };
}

function timeEntries(canaryRps: number, t: RollbackTimes, flagger: number, limitS: number): BenchEntry[] {
  const at = `rollback-time.${canaryRps}rps`;
  const missing = (v: number | null) =>
    v === null ? `not reached within ${limitS} s (value = the limit)` : "";
  const out: BenchEntry[] = [];
  const add = (name: string, v: number | null, opts: Parameters<typeof entry>[3] = {}) => {
    const note = [missing(v), opts.note ?? ""].filter(Boolean).join("; ");
    out.push(entry(`${at}.${name}`, v ?? limitS, "s from onset", { ...opts, ...(note ? { note } : {}) }));
  };
  add("decision", t.decisionS);
  add("virtual-service", t.virtualServiceS);
  const goal = canaryRps >= 100;
  add("filters-0pct", t.filtersS, {
    baseline: flagger,
    goal: goal ? `<= ${GOAL_S} s` : null,
    met: goal ? t.filtersS !== null && t.filtersS <= GOAL_S : null,
    note: "baseline: Flagger-style rule (defaults) on simulated traffic with the same rates",
  });
  return out;
}

export const rollbackTime: Bench = {
  name: "rollback-time",
  async run(ctx) {
    const n = sizes(ctx);
    const out: BenchEntry[] = [];
    for (const rps of n.rps) {
      ctx.log(`rollback-time: ${rps} canary rps, failures ${BASE_FAILURE * 100}% -> ${FAULT_FAILURE * 100}%`);
      const t = await measureOnce(rps, n.healthyMs, n.limitMs);
      out.push(...timeEntries(rps, t, flaggerSeconds(rps, 51), n.limitMs / 1000));
    }
    return out;
  },
};
