/**
 * Error rates of the mean-per-request check (metricMean, controller/analysis/mean-ratio.ts) on
 * model-server traffic with sticky users, sessions and heavy tails (traffic-models/llm-sessions.ts).
 * A rollout is judged as the controller does: every step from a fresh state, evaluated every 10 s,
 * α split over the steps; a fail at any tick of any step counts.
 * `npx tsx bench/llm-mean-study.ts [runs]` prints the table docs/llm.md quotes.
 */
import { pathToFileURL } from "node:url";
import { type AnalysisState, evaluate } from "../controller/analysis/analyze.js";
import type { Check } from "../controller/analysis/checks.js";
import { SIM_CANARY, SIM_STABLE } from "../controller/analysis/simulate.js";
import { type CanaryModel, llmTraffic, SAME, TOKENS } from "./traffic-models/llm-sessions.js";

/** One simulated rollout. */
export interface MeanRollout {
  /** Canary weights of the steps, each `seconds` long. */
  weights: number[];
  seconds: number;
  canary: CanaryModel;
  check: Check;
  alpha: number;
  /** Sessions started per second (each ~8 requests); default 4 (~32 requests a second). */
  sessionsPerSecond?: number;
  /** Log-space spread of the per-user factor (default 0.5). */
  userSpread?: number;
}

/** The mean check with limit `maxRatio` on the traffic's tokens. */
export function meanCheck(maxRatio: number): Check {
  return { kind: "metricMean", name: "tokens", metric: TOKENS, maxRatio };
}

/** Seconds into the rollout of the first fail, or undefined when no step failed. */
export function firstFail(r: MeanRollout, seed: number): number | undefined {
  for (const [i, weight] of r.weights.entries()) {
    const windows = llmTraffic({
      seed: 1000 * seed + i,
      seconds: r.seconds,
      weight,
      canary: r.canary,
      sessionsPerSecond: r.sessionsPerSecond,
      userSpread: r.userSpread,
    });
    let state: AnalysisState | undefined;
    let next = 0;
    for (let t = 10; t <= r.seconds; t += 10) {
      const last = state?.lastWindowMs ?? -1;
      const fresh: typeof windows = [];
      while (next < windows.length && windows[next]!.startMs < 1000 * t) {
        if (windows[next]!.startMs > last) fresh.push(windows[next]!);
        next++;
      }
      const out = evaluate(
        {
          windows: fresh,
          canaryVariant: SIM_CANARY,
          stableVariant: SIM_STABLE,
          checks: [r.check],
          alpha: r.alpha,
          steps: r.weights.length,
          nowMs: 1000 * t,
        },
        state,
      );
      if (out instanceof Error) throw out;
      if (out.checks[0]!.verdict === "fail") return i * r.seconds + t;
      state = out.state;
    }
  }
  return undefined;
}

/** Share of `runs` seeded rollouts that fail, and the median time to the fail among them. */
export function failRate(r: MeanRollout, runs: number): { rate: number; medianS?: number } {
  const times: number[] = [];
  for (let seed = 0; seed < runs; seed++) {
    const t = firstFail(r, seed);
    if (t !== undefined) times.push(t);
  }
  times.sort((a, b) => a - b);
  return { rate: times.length / runs, medianS: times[Math.floor(times.length / 2)] };
}

const AA = (ratio: number, weights: number[], seconds: number, userSpread?: number): MeanRollout => ({
  weights,
  seconds,
  canary: { ...SAME, scale: ratio },
  check: meanCheck(ratio),
  alpha: 0.05,
  ...(userSpread !== undefined ? { userSpread } : {}),
});

const DETECT = { weights: [0.5], seconds: 1800, alpha: 0.01, sessionsPerSecond: 20 };

/** The rows docs/llm.md quotes. */
export const STUDY: { name: string; rollout: MeanRollout }[] = [
  { name: "A/A at the limit 1.5, 5/25/50%, 10 min each", rollout: AA(1.5, [0.05, 0.25, 0.5], 600) },
  { name: "A/A limit 1, 5/25/50%, 10 min each", rollout: AA(1, [0.05, 0.25, 0.5], 600) },
  { name: "A/A limit 1, 75%, 20 min", rollout: AA(1, [0.75], 1200) },
  { name: "A/A limit 1, 75%, 20 min, users alike", rollout: AA(1, [0.75], 1200, 0) },
  { name: "A/A limit 1, 95%, 20 min", rollout: AA(1, [0.95], 1200) },
  { name: "A/A limit 1, 95%, 20 min, users alike", rollout: AA(1, [0.95], 1200, 0) },
  {
    name: "2x on 30% of prompts vs 1.1, 50%, 160 rps",
    rollout: { ...DETECT, canary: { scale: 1, factor: 2, affected: 0.3 }, check: meanCheck(1.1) },
  },
  {
    name: "2x on every prompt vs 1.5, 25%, 160 rps",
    rollout: {
      ...DETECT,
      weights: [0.25],
      seconds: 1200,
      canary: { ...SAME, scale: 2 },
      check: meanCheck(1.5),
    },
  },
  {
    name: "2x on every prompt vs 1.5, 25%, 32 rps",
    rollout: {
      ...DETECT,
      weights: [0.25],
      seconds: 1200,
      sessionsPerSecond: 4,
      canary: { ...SAME, scale: 2 },
      check: meanCheck(1.5),
    },
  },
];

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const runs = Number(process.argv[2] ?? 100);
  for (const { name, rollout } of STUDY) {
    const { rate, medianS } = failRate(rollout, runs);
    const when = medianS === undefined ? "" : `, median ${medianS} s to the fail`;
    console.log(`${name} (alpha ${rollout.alpha}): fails ${(100 * rate).toFixed(0)}% of ${runs}${when}`);
  }
}
