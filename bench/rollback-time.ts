/**
 * Time to roll back (DESIGN §7): the whole sandbox (embedded Kubernetes API, controller, the filter
 * in a 2-worker sidecar, stable and canary apps, a sticky-user load generator). The canary sits at
 * 50% of the load with both versions failing 1% of requests; at a known instant the canary app
 * starts failing 5% (or answering 100 ms slower). Measured from that onset: the controller's
 * decision (status → RollingBack), the VirtualService write, and every filter worker routing 0%
 * canary — found with a probe user in the top sticky bucket, who is on the canary at any non-zero
 * weight.
 *
 * Baseline: a Flagger-style rule (60 s interval; rollback after 1 or after 5 failed checks) replayed
 * on the windows the controller saw in the same run, continued at the same rates (flagger-replay.ts).
 */
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { measureBaselines } from "../controller/analysis/baselines.js";
import { quantileKey } from "../controller/analysis/checks.js";
import { mulberry32 } from "../controller/analysis/simulate.js";
import { BUCKETS, stickyBucket } from "../controller/mesh/sticky-hash.js";
import type { WindowPoint } from "../controller/telemetry/types.js";
import type { AppBehaviour } from "../sandbox/apps/demo-app.js";
import { type Sandbox, STICKY_HEADER, startSandbox } from "../sandbox/demo/environment.js";
import type { Manifest } from "../sandbox/demo/kube-objects.js";
import { DEMO_NAMESPACE, demoCanary } from "../sandbox/demo/manifests.js";
import { type FlaggerMetric, flaggerMedianSeconds, type Recording } from "./flagger-replay.js";
import { type Bench, type BenchContext, type BenchEntry, entry } from "./results.js";

const SERVICE = "reviews";
const CANARY_ID = `${DEMO_NAMESPACE}/${SERVICE}`;
const COHORT = `${SERVICE}-demo`;
const CANARY_WEIGHT_PCT = 50;
/** Weight of the first step of the latency scenario, whose stable traffic is the p99 baseline. */
const BASELINE_STEP_WEIGHT_PCT = 10;
const BASE_FAILURE = 0.01;
const FAULT_FAILURE = 0.05;
const LATENCY_QUANTILE = 0.99;
const LATENCY_MAX_RATIO = 1.2;
/** DESIGN §7: onset to the filters routing 100% stable. */
const GOAL_S = 5;
const POLL_MS = 50;
/** The Flagger-style rule: check interval and the failed-check counts compared. */
const FLAGGER_INTERVAL_MS = 60_000;
const FLAGGER_THRESHOLDS = [1, 5] as const;
/** How far past the onset the Flagger-style rule is replayed. */
const FLAGGER_HORIZON_S = 900;

/** The failure-rate check an operator would choose here: no worse than stable, and a 2% ceiling. */
const FAILURE_CHECK = { name: "failure-rate", failureRate: { max: 2, maxIncrease: 0 } };
/** p99 at most 1.2 × stable's p99 measured before the step. */
const LATENCY_CHECK = {
  name: "latency-p99",
  latency: { quantile: LATENCY_QUANTILE, maxRatio: LATENCY_MAX_RATIO },
};

/** One measured rollout. */
interface Scenario {
  /** Entry name prefix after "rollback-time.". */
  name: string;
  canaryRps: number;
  checks: unknown[];
  /** What the canary app does from the onset. */
  fault: Partial<AppBehaviour>;
  /** A first step held this long (then approved) so stable's p99 before the 50% step is known. */
  baselineStepMs?: number;
  /** The Canary's analysis.blockDuration when not the demo's 1 s ("0s": per event). */
  blockDuration?: string;
  describe: string;
}

function scenarios(ctx: BenchContext): { list: Scenario[]; healthyMs: number; limitMs: number } {
  const failures = (canaryRps: number, name: string): Scenario => ({
    name,
    canaryRps,
    checks: [FAILURE_CHECK],
    fault: { errorRate: FAULT_FAILURE },
    describe: `${canaryRps} canary rps, failures ${BASE_FAILURE * 100}% -> ${FAULT_FAILURE * 100}% on the canary`,
  });
  const latency: Scenario = {
    name: "100rps-latency",
    canaryRps: 100,
    checks: [FAILURE_CHECK, LATENCY_CHECK],
    fault: { extraLatencyMs: 100 },
    baselineStepMs: 15_000,
    describe: "100 canary rps, +100 ms on the canary",
  };
  // The load generator's requests are independent draws, so declaring it (per-event tests) is true here.
  const perEvent = (s: Scenario): Scenario => ({
    ...s,
    name: `${s.name}-per-event`,
    blockDuration: "0s",
    describe: `${s.describe}, blockDuration 0s (per event)`,
  });
  if (ctx.mode === "full") {
    return {
      list: [
        failures(100, "100rps"),
        perEvent(failures(100, "100rps")),
        failures(10, "10rps"),
        latency,
        perEvent(latency),
      ],
      healthyMs: 10_000,
      limitMs: 90_000,
    };
  }
  return { list: [failures(100, "100rps")], healthyMs: 5000, limitMs: 45_000 };
}

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
interface Measurement {
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
async function measureOnce(s: Scenario, healthyMs: number, limitMs: number): Promise<Measurement> {
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

/** Requests per second and failure share of a variant over the recorded windows before/after the onset. */
function observed(rec: Recording, variant: string, side: "before" | "after") {
  const ws = rec.windows.filter((w: WindowPoint) =>
    side === "before"
      ? w.startMs >= rec.fromMs && w.startMs + 1000 <= rec.onsetMs
      : w.startMs >= rec.onsetMs && w.startMs < rec.toMs,
  );
  let requests = 0;
  let failures = 0;
  for (const w of ws) {
    requests += w.variants.get(variant)?.requests ?? 0;
    failures += w.variants.get(variant)?.failures ?? 0;
  }
  return {
    rps: ws.length ? requests / ws.length : 0,
    failureRate: requests ? failures / requests : Number.NaN,
  };
}

/** The Flagger-style check matching the scenario's fault, on the same thresholds as the Canary's. */
function flaggerMetric(s: Scenario, m: Measurement): FlaggerMetric | Error {
  if (s.fault.extraLatencyMs === undefined)
    return { kind: "errorRate", maxErrorRate: FAILURE_CHECK.failureRate.max / 100 };
  if (m.stableLatencyUs === undefined)
    return new Error("no stable p99 before the step to set the latency limit");
  return { kind: "latency", quantile: LATENCY_QUANTILE, maxUs: LATENCY_MAX_RATIO * m.stableLatencyUs };
}

function flaggerSeconds(s: Scenario, m: Measurement): Map<number, number | Error> {
  const metric = flaggerMetric(s, m);
  const out = new Map<number, number | Error>();
  for (const threshold of FLAGGER_THRESHOLDS) {
    out.set(
      threshold,
      metric instanceof Error
        ? metric
        : flaggerMedianSeconds(
            m.recording,
            "canary",
            metric,
            { intervalMs: FLAGGER_INTERVAL_MS, threshold },
            FLAGGER_HORIZON_S,
            mulberry32(42 + threshold),
          ),
    );
  }
  return out;
}

function pct(v: number): string {
  return `${(v * 100).toFixed(2)}%`;
}

function scenarioEntries(s: Scenario, m: Measurement, limitS: number): BenchEntry[] {
  const at = `rollback-time.${s.name}`;
  const flagger = flaggerSeconds(s, m);
  const strongest = flagger.get(1);
  const baseline = typeof strongest === "number" ? strongest : null;
  const canary = observed(m.recording, "canary", "before");
  const stable = observed(m.recording, "stable", "before");
  const faulty = observed(m.recording, "canary", "after");
  const setup =
    `Canary checks ${JSON.stringify(s.checks.map((c) => c as { [k: string]: unknown }))}; ` +
    `load answered ${m.loadRps.toFixed(1)} rps (target ${(s.canaryRps * 100) / CANARY_WEIGHT_PCT}); measured by the controller before the onset: canary ${canary.rps.toFixed(1)} rps, stable ${stable.rps.toFixed(1)} rps, stable failures ${pct(stable.failureRate)}, ` +
    `canary failures ${pct(canary.failureRate)}; after: canary failures ${pct(faulty.failureRate)}` +
    (m.stableLatencyUs !== undefined
      ? `; stable p99 before the step ${(m.stableLatencyUs / 1000).toFixed(1)} ms`
      : "");
  const flaggerNote =
    `baseline: Flagger-style rule, ${FLAGGER_INTERVAL_MS / 1000} s interval, rollback at the 1st failed check ` +
    `(${s.fault.extraLatencyMs === undefined ? `error rate > ${FAILURE_CHECK.failureRate.max}%` : `p99 > ${LATENCY_MAX_RATIO} x stable's p99`}), ` +
    "median over its check phase, replayed on this run's windows continued by drawing recorded seconds of the same period";
  const missing = (v: number | null) =>
    v === null ? `not reached within ${limitS} s (value = the limit)` : "";
  const out: BenchEntry[] = [];
  const add = (name: string, v: number | null, opts: Parameters<typeof entry>[3] = {}) => {
    const note = [missing(v), opts.note ?? ""].filter(Boolean).join("; ");
    out.push(entry(`${at}.${name}`, v ?? limitS, "s from onset", { ...opts, ...(note ? { note } : {}) }));
  };
  add("decision", m.times.decisionS, { baseline, note: setup });
  add("virtual-service", m.times.virtualServiceS, { baseline });
  const goal = s.canaryRps >= 100;
  add("filters-0pct", m.times.filtersS, {
    baseline,
    goal: goal ? `<= ${GOAL_S} s` : null,
    met: goal ? m.times.filtersS !== null && m.times.filtersS <= GOAL_S : null,
    note: flaggerNote,
  });
  for (const [threshold, v] of flagger) {
    const name = `${at}.flagger-threshold${threshold}`;
    if (v instanceof Error) {
      out.push(entry(name, FLAGGER_HORIZON_S, "s from onset", { note: `not computed: ${v.message}` }));
    } else {
      const note = `Flagger-style rule, ${threshold} failed check(s) of ${FLAGGER_INTERVAL_MS / 1000} s; ${v >= FLAGGER_HORIZON_S ? "no rollback within the horizon" : "median over its check phase"}`;
      out.push(entry(name, v, "s from onset", { note }));
    }
  }
  out.push(entry(`${at}.canary-rps`, canary.rps, "canary req/s", { note: `target ${s.canaryRps}` }));
  return out;
}

export const rollbackTime: Bench = {
  name: "rollback-time",
  async run(ctx) {
    const { list, healthyMs, limitMs } = scenarios(ctx);
    const out: BenchEntry[] = [];
    for (const s of list) {
      ctx.log(`rollback-time: ${s.describe}`);
      const m = await measureOnce(s, healthyMs, limitMs);
      out.push(...scenarioEntries(s, m, limitMs / 1000));
    }
    return out;
  },
};
