/**
 * The rollback-time bench's measurement (rollback-time.ts): one rollout in a fresh sandbox, healthy
 * at 50% and then faulty, with the controller's decision, the VirtualService write and every filter
 * worker routing 0% canary timed from the onset, and the controller's windows around them kept for
 * the Flagger-style replay. Separate from the report, which only turns a Measurement into entries.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { measureBaselines } from "../controller/analysis/baselines.js";
import { quantileKey } from "../controller/analysis/checks.js";
import { BUCKETS, stickyBucket } from "../controller/mesh/sticky-hash.js";
import { type Sandbox, STICKY_HEADER, startSandbox } from "../sandbox/demo/environment.js";
import type { Manifest } from "../sandbox/demo/kube-objects.js";
import { DEMO_NAMESPACE, demoCanary } from "../sandbox/demo/manifests.js";
import type { Recording } from "./flagger-replay.js";
import {
  BASE_FAILURE,
  BASELINE_STEP_WEIGHT_PCT,
  CANARY_ID,
  CANARY_WEIGHT_PCT,
  COHORT,
  LATENCY_MAX_RATIO,
  LATENCY_QUANTILE,
  SERVICE,
  type Scenario,
} from "./rollback-scenarios.js";

const POLL_MS = 50;

/** A user key in the given sticky bucket of the cohort (searched deterministically). */
export function userInBucket(cohort: string, bucket: number): string {
  for (let i = 0; ; i++) if (stickyBucket(cohort, `probe-${i}`) === bucket) return `probe-${i}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The version that serves `user` through the sidecar, asked on a fresh connection: Envoy hands each
 * new connection to one of its workers, so PROBES fresh probes reach every worker's filter with
 * near certainty (all on one of two workers: 2^-(PROBES-1)).
 */
function probe(sb: Sandbox, user: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: sb.dataPlane.port,
        path: "/probe",
        agent: false,
        headers: { host: sb.hostOf(SERVICE), [STICKY_HEADER]: user, connection: "close" },
      },
      (res) => {
        res.resume();
        resolve(res.headers["x-app-version"] as string | undefined);
      },
    );
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

const PROBES = 8;

/** Whether every probe for `user` is served by something other than `version`. */
async function noneServedBy(sb: Sandbox, user: string, version: string | undefined): Promise<boolean> {
  const seen = await Promise.all(Array.from({ length: PROBES }, () => probe(sb, user)));
  return seen.every((v) => v !== undefined && v !== version);
}

function canaryManifest(s: Scenario): Manifest {
  const m = demoCanary(resolve("."), SERVICE, [{ weight: CANARY_WEIGHT_PCT, pauseMs: 30 * 60_000 }]);
  const spec = m.spec as {
    strategy: { canary: { steps: unknown[] } };
    analysis: { checks: unknown[]; minStepDuration: string; blockDuration?: string };
  };
  spec.analysis.checks = s.checks;
  if (s.blockDuration !== undefined) spec.analysis.blockDuration = s.blockDuration;
  spec.analysis.minStepDuration = "1s";
  if (s.baselineStepMs !== undefined) {
    spec.strategy.canary.steps.unshift({
      weight: BASELINE_STEP_WEIGHT_PCT,
      pause: { duration: `${s.baselineStepMs}ms` },
      approval: true,
    });
  }
  return m;
}

interface CanaryStatus {
  phase?: string;
  step?: number;
  stepStartedAt?: string;
}

async function status(sb: Sandbox): Promise<CanaryStatus | undefined> {
  const c = await sb.kube.get("meshcanary.io/v1alpha1", "Canary", DEMO_NAMESPACE, SERVICE);
  return c && !(c instanceof Error) ? (c.status as CanaryStatus) : undefined;
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

/** A rollout's milestones and the windows the controller saw around them. */
export interface Measurement {
  times: RollbackTimes;
  recording: Recording;
  /** Requests per second the load generator got answered during the healthy period (both versions). */
  loadRps: number;
  /** Stable's latency quantile before the 50% step, µs (the latency check's baseline), if known. */
  stableLatencyUs?: number;
}

async function waitFor(what: string, limitMs: number, ok: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`rollback-time: timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function postCommand(sb: Sandbox, command: string): Promise<void> {
  const url = `${sb.apiUrl}/api/v1/canaries/${DEMO_NAMESPACE}/${SERVICE}/${command}`;
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${sb.apiToken}`, "content-type": "application/json" },
    body: "{}",
  });
  if (!res.ok) throw new Error(`rollback-time: POST ${url}: ${res.status} ${await res.text()}`);
}

/** Walks to the 50% step (approving the baseline step if any); returns when its clock started. */
async function reachCanaryStep(sb: Sandbox, s: Scenario): Promise<number> {
  const last = s.baselineStepMs === undefined ? 0 : 1;
  if (last === 1) {
    await waitFor("the baseline step to await approval", 60_000 + (s.baselineStepMs ?? 0), async () => {
      return (await status(sb))?.phase === "Paused";
    });
    await postCommand(sb, "approve");
  }
  let startedAt = Number.NaN;
  await waitFor(`step ${last} in force`, 60_000, async () => {
    const st = await status(sb);
    if (st?.phase !== "Progressing" || st.step !== last || st.stepStartedAt === undefined) return false;
    startedAt = Date.parse(st.stepStartedAt);
    return true;
  });
  return startedAt;
}

/** Polls the three milestones from the onset until all are reached or `limitMs` passes. */
async function milestones(
  sb: Sandbox,
  onset: number,
  limitMs: number,
  canaryUser: string,
  canaryVariant?: string,
) {
  const times: RollbackTimes = { decisionS: null, virtualServiceS: null, filtersS: null };
  const since = () => (Date.now() - onset) / 1000;
  while (Date.now() - onset < limitMs && Object.values(times).some((v) => v === null)) {
    // Probes are tallied like any request, so they start only once the decision is made: before
    // it they would dilute the canary's figures, and no filter can route 0% before it anyway.
    if (
      times.decisionS !== null &&
      times.filtersS === null &&
      (await noneServedBy(sb, canaryUser, canaryVariant))
    ) {
      times.filtersS = since();
    }
    if (times.decisionS === null && ["RollingBack", "RolledBack"].includes((await status(sb))?.phase ?? "")) {
      times.decisionS = since();
    }
    if (times.virtualServiceS === null && (await vsRoutesCanary(sb)) === false)
      times.virtualServiceS = since();
    await sleep(POLL_MS);
  }
  return times;
}

/** One rollout: healthy at 50% for `healthyMs`, then the fault; milestones within `limitMs`. */
export async function measureOnce(s: Scenario, healthyMs: number, limitMs: number): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), "meshcanary-rollback-"));
  const sb = await startSandbox({
    root: resolve("."),
    kubeconfigPath: join(dir, "kubeconfig"),
    services: [
      { name: SERVICE, versions: { v1: { errorRate: BASE_FAILURE }, v2: { errorRate: BASE_FAILURE } } },
    ],
    load: { rps: (s.canaryRps * 100) / CANARY_WEIGHT_PCT, users: 2000 },
  });
  try {
    const applied = await sb.kube.apply(canaryManifest(s));
    if (applied instanceof Error) throw applied;
    const canaryUser = userInBucket(COHORT, BUCKETS - 1);
    const stableUser = userInBucket(COHORT, 0);
    const stepStart = await reachCanaryStep(sb, s);
    // The canary version: what serves the top bucket on every worker while the bottom one stays stable.
    let canaryVariant: string | undefined;
    await waitFor("every worker routing the probe user to the canary", 30_000, async () => {
      const stable = await probe(sb, stableUser);
      const canary = await probe(sb, canaryUser);
      if (canary === undefined || canary === stable) return false;
      canaryVariant = canary;
      return noneServedBy(sb, canaryUser, stable);
    });
    const sentBefore = sb.load(SERVICE).stats().answered;
    await sleep(healthyMs);
    const loadRps = (sb.load(SERVICE).stats().answered - sentBefore) / (healthyMs / 1000);
    const before = await status(sb);
    if (before?.phase !== "Progressing")
      throw new Error(`rollback-time: A/A phase left Progressing: ${before?.phase}`);

    sb.app(SERVICE, "v2").set(s.fault);
    const onset = Date.now();
    const times = await milestones(sb, onset, limitMs, canaryUser, canaryVariant);
    const stepFrom = Math.ceil(stepStart / 1000) * 1000;
    // Faulty canary traffic flows until the first milestone; the seconds before it are all recorded.
    const reached = Object.values(times).filter((v): v is number => v !== null);
    const firstMs = onset + Math.min(limitMs / 1000, ...reached) * 1000;
    const recording: Recording = {
      windows: sb.controller.telemetry.series(CANARY_ID, stepFrom, firstMs),
      fromMs: stepFrom,
      toMs: Math.floor(firstMs / 1000) * 1000,
      onsetMs: onset,
    };
    const baseline = measureBaselines(
      sb.controller.telemetry.series(CANARY_ID, stepFrom - 5 * 60_000, stepFrom),
      "stable",
      [{ name: "p", kind: "latency", quantile: LATENCY_QUANTILE, maxRatio: LATENCY_MAX_RATIO }],
    );
    const stableLatencyUs = baseline.stableLatencyUs?.[quantileKey(LATENCY_QUANTILE)];
    return { times, recording, loadRps, ...(stableLatencyUs !== undefined ? { stableLatencyUs } : {}) };
  } finally {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
