/**
 * Decision quality under dependent traffic (issue 18): for each traffic model of
 * bench/traffic-models, the A/A false-rollback rate of the controller's own analysis (analyseStep,
 * window by window) with a 95% Wilson interval, next to a Flagger-style rule on the same data; and
 * the time from onset to rollback of regressions at 100 canary rps, next to the same rule.
 */

import { FAULTS, MODELS } from "./traffic-models/models.js";
import { type AaResult, aaStudy, type DetectResult, detectStudy } from "./traffic-models/study.js";
import { type Bench, type BenchContext, type BenchEntry, entry } from "./results.js";

/** The Canary alpha every A/A run is held to (the spec default). */
export const ALPHA = 0.01;

function sizes(ctx: BenchContext): { aaRuns: number; detectRuns: number; models: typeof MODELS } {
  if (ctx.mode === "full") return { aaRuns: 1000, detectRuns: 100, models: MODELS };
  if (ctx.mode === "quick") return { aaRuns: 20, detectRuns: 5, models: MODELS };
  // smoke: structure only, the cheap models (no per-request latency or metric draws)
  const cheap = (w: ReturnType<(typeof MODELS)[number]["world"]>) => !w.latency && !w.metric;
  return { aaRuns: 3, detectRuns: 2, models: MODELS.filter((m) => cheap(m.world(() => 0.5))) };
}

function aaEntries(r: AaResult): BenchEntry[] {
  const fired = Object.entries(r.byCheck)
    .map(([c, n]) => `${c} ${n}`)
    .join(", ");
  const note = `${r.runs} runs, 95% interval ${r.lower.toFixed(4)}..${r.upper.toFixed(4)}; baseline: Flagger-style rule${fired ? `; fired: ${fired}` : ""}`;
  return [
    entry(`decision-quality.aa.${r.model}`, r.rate, "fraction of A/A runs rolled back", {
      goal: `95% upper <= ${ALPHA}`,
      met: r.upper <= ALPHA,
      baseline: r.flaggerRate,
      note,
    }),
    entry(`decision-quality.aa.${r.model}.upper95`, r.upper, "fraction (95% upper bound)"),
    entry(
      `decision-quality.aa.${r.model}.sample-ratio-holds`,
      r.sampleRatioMismatchRuns / r.runs,
      "fraction of runs",
    ),
  ];
}

function detectEntries(d: DetectResult): BenchEntry[] {
  const at = `decision-quality.detect.${d.name.replace(/[^a-z0-9]+/gi, "-")}`;
  const out = [
    entry(`${at}.detected`, d.detected, "fraction of runs", {
      baseline: d.flaggerDetected,
      note: `${d.runs} runs at 100 canary rps (10% of 1,000 rps), base failure 0.5%; baseline: Flagger-style rule`,
    }),
  ];
  if (d.detected > 0) {
    out.push(
      entry(`${at}.seconds`, d.medianSeconds, "s from onset (median)", {
        baseline: Number.isFinite(d.flaggerMedianSeconds) ? d.flaggerMedianSeconds : null,
      }),
    );
  }
  return out;
}

export const decisionQuality: Bench = {
  name: "decision-quality",
  async run(ctx) {
    const n = sizes(ctx);
    const out: BenchEntry[] = [];
    for (const m of n.models) {
      ctx.log(`decision-quality: ${n.aaRuns} A/A rollouts, ${m.name}`);
      out.push(...aaEntries(aaStudy(m, n.aaRuns)));
    }
    for (const f of FAULTS.filter((c) => n.models.includes(c.model))) {
      ctx.log(`decision-quality: detection, ${f.name}, ${n.detectRuns} runs`);
      out.push(...detectEntries(detectStudy(f, n.detectRuns)));
    }
    return out;
  },
};
