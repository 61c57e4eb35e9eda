/**
 * What the leave-one-out rule (issue #14) costs honest traffic: seconds to the first verdict by how
 * many reporters share the same traffic (200 rps per variant, weight 50%, stable failing 0.5%), for a
 * healthy canary and a 5x regression, through `evaluateRobust` tick by tick as the reconciler runs
 * it; and the analysis time per tick and state size with 8 groups over a 30-minute step.
 *   npx tsx bench/traffic-models/leave-one-out.ts [runs per cell, default 20]
 */
import type { AnalysisState } from "../../controller/analysis/analyze.js";
import type { Check } from "../../controller/analysis/checks.js";
import { evaluateRobust } from "../../controller/analysis/leave-one-out.js";
import { binomial, mulberry32, SIM_CANARY, SIM_STABLE } from "../../controller/analysis/simulate.js";
import { emptySketch, record } from "../../controller/telemetry/sketch.js";
import { countStats, Windows } from "../../controller/telemetry/windows.js";

const FAILURE: Check = { name: "errors", kind: "failureRate", max: 0.01, maxRatio: 1.5 };
const P99: Check = { name: "p99", kind: "latency", quantile: 0.99, maxMs: 1000 };

/** One second of traffic from `reporters` proxies sharing 200 rps per variant. */
function second(
  w: Windows,
  rng: () => number,
  t: number,
  reporters: number,
  canaryFailure: number,
  latency = false,
) {
  for (let g = 0; g < reporters; g++) {
    for (const [variant, p] of [
      [SIM_CANARY, canaryFailure],
      [SIM_STABLE, 0.005],
    ] as const) {
      const n = binomial(rng, Math.round(400 / reporters), 0.5);
      const sketch = emptySketch();
      if (latency) for (let i = 0; i < n; i++) record(sketch, 1000 * (20 + 80 * rng()));
      w.add("c", variant, countStats(n, binomial(rng, n, p), sketch), t * 1000 + 500, g);
    }
  }
}

function firstVerdict(
  reporters: number,
  seed: number,
  canaryFailure: number,
): { verdict: string; s: number } {
  const rng = mulberry32(seed);
  const w = new Windows();
  let state: AnalysisState | undefined;
  for (let t = 0; t < 1200; t++) {
    second(w, rng, t, reporters, canaryFailure);
    const windows = w.series("c", t * 1000, (t + 1) * 1000);
    const input = { windows, canaryVariant: SIM_CANARY, stableVariant: SIM_STABLE, checks: [FAILURE] };
    const r = evaluateRobust({ ...input, canaryWeight: 0.5, nowMs: (t + 1) * 1000 }, state);
    if (r instanceof Error) throw r;
    state = r.state;
    if (r.verdict !== "inconclusive") return { verdict: r.verdict, s: t + 1 };
  }
  return { verdict: "none", s: 1200 };
}

const runs = Number(process.argv[2] ?? 20);
for (const [label, p] of [
  ["healthy", 0.005],
  ["5x regression", 0.025],
] as const) {
  for (const reporters of [1, 2, 3, 4, 8]) {
    const res = Array.from({ length: runs }, (_, i) => firstVerdict(reporters, 1000 + i, p));
    const s = res.map((r) => r.s).sort((a, b) => a - b);
    const verdicts: Record<string, number> = {};
    for (const r of res) verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
    const median = s[Math.floor(s.length / 2)];
    process.stdout.write(
      `${JSON.stringify({ canary: label, reporters, medianSeconds: median, verdicts })}\n`,
    );
  }
}

// Cost per tick with 8 groups and both checks over a 30-minute step of 1-s ticks.
const rng = mulberry32(1);
const w = new Windows();
let state: AnalysisState | undefined;
let spent = 0;
for (let t = 0; t < 1800; t++) {
  second(w, rng, t, 8, 0.005, true);
  const windows = w.series("c", t * 1000, (t + 1) * 1000);
  const started = performance.now();
  const input = { windows, canaryVariant: SIM_CANARY, stableVariant: SIM_STABLE, checks: [FAILURE, P99] };
  const r = evaluateRobust({ ...input, canaryWeight: 0.5, nowMs: (t + 1) * 1000 }, state);
  spent += performance.now() - started;
  if (r instanceof Error) throw r;
  state = r.state;
}
const { leaveOneOut, ...pooled } = state!;
process.stdout.write(
  `${JSON.stringify({ msPerTick: spent / 1800, stateBytes: JSON.stringify(state).length, pooledStateBytes: JSON.stringify(pooled).length, groups: Object.keys(leaveOneOut ?? {}).length })}\n`,
);
