/**
 * The rollback-time bench's report (rollback-time.ts): a Measurement as bench entries — the three
 * milestones against the goal, the Flagger-style rule replayed on the same run's windows as the
 * baseline, and what the controller saw before and after the onset. Separate from the measurement
 * because it is pure: no sandbox, only the recorded figures.
 */
import type { WindowPoint } from "../controller/telemetry/types.js";
import { mulberry32 } from "../controller/analysis/simulate.js";
import { type FlaggerMetric, flaggerMedianSeconds, type Recording } from "./flagger-replay.js";
import type { Measurement } from "./rollback-measure.js";
import {
  CANARY_WEIGHT_PCT,
  FAILURE_CHECK,
  LATENCY_MAX_RATIO,
  LATENCY_QUANTILE,
  type Scenario,
} from "./rollback-scenarios.js";
import { type BenchEntry, entry } from "./results.js";

/** DESIGN §7: onset to the filters routing 100% stable. */
const GOAL_S = 5;
/** The Flagger-style rule: check interval and the failed-check counts compared. */
const FLAGGER_INTERVAL_MS = 60_000;
const FLAGGER_THRESHOLDS = [1, 5] as const;
/** How far past the onset the Flagger-style rule is replayed. */
const FLAGGER_HORIZON_S = 900;

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

/** The bench entries of one measured scenario; `limitS` stands in for a milestone not reached. */
export function scenarioEntries(s: Scenario, m: Measurement, limitS: number): BenchEntry[] {
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
