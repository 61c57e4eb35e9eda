/**
 * Model-server traffic with the dependence real LLM traffic has, for the token-mean tests:
 * - sticky users: a user is on the canary or not for the whole step, and each user asks for
 *   longer or shorter answers than others (a per-user factor, log-normal);
 * - sessions: a user sends one request a second for several seconds on the same prompt, so
 *   neighbouring requests and whole blocks share their user and prompt;
 * - heavy tails: prompts' answer lengths are log-normal (σ 0.8), each answer varies again
 *   (σ 0.6), and 0.2% of answers run away (20×);
 * - a shared per-minute drift of the prompt mix, hitting both arms alike.
 * The canary model multiplies the tokens of some prompts (`affected`, picked at random or the
 * longest ones) by `factor`, or all answers by `scale` (a canary at exactly ratio × stable).
 */
import { mulberry32, normal, poisson, SIM_CANARY, SIM_STABLE } from "../../controller/analysis/simulate.js";
import { emptySketch, record } from "../../controller/telemetry/sketch.js";
import type { MetricStats, VariantStats, WindowPoint } from "../../controller/telemetry/types.js";
import { countStats } from "../../controller/telemetry/windows.js";

export const TOKENS = "llm-total-tokens";

/** How the canary's model answers, relative to stable's. */
export interface CanaryModel {
  /** Every answer's tokens × scale (1 = the same model). */
  scale: number;
  /** Tokens of the affected prompts × factor. */
  factor: number;
  /** Share of prompt kinds affected. */
  affected: number;
  /** Affect the longest prompt kinds instead of a random choice. */
  longest?: boolean;
}

export const SAME: CanaryModel = { scale: 1, factor: 1, affected: 0 };

export interface LlmTrafficSpec {
  seed: number;
  seconds: number;
  /** Canary share of users, 0..1. */
  weight: number;
  canary: CanaryModel;
  /** Sessions started per second (each ~8 requests, one a second). */
  sessionsPerSecond?: number;
  /** Log-space spread of the per-user factor (default 0.5; 0: users alike). */
  userSpread?: number;
  /** Record per-request values into sketches (needed by the tail test only). */
  sketches?: boolean;
  startMs?: number;
}

const USERS = 2000;
const PROMPTS = 200;

interface Session {
  user: number;
  prompt: number;
  left: number;
}

function lognormal(r: () => number, sigma: number): number {
  return Math.exp(sigma * normal(r));
}

/** Windows of one step, as the telemetry layer produces them. */
export function llmTraffic(spec: LlmTrafficSpec): WindowPoint[] {
  const r = mulberry32(spec.seed);
  const userFactor = Array.from({ length: USERS }, () => lognormal(r, spec.userSpread ?? 0.5));
  const onCanary = Array.from({ length: USERS }, () => r() < spec.weight);
  const base = Array.from({ length: PROMPTS }, () => 300 * lognormal(r, 0.8));
  const order = base.map((b, i) => [b, i] as const).sort((a, b) => b[0] - a[0]);
  const hit = new Array<boolean>(PROMPTS).fill(false);
  const n = Math.round(spec.canary.affected * PROMPTS);
  if (spec.canary.longest) for (const [, i] of order.slice(0, n)) hit[i] = true;
  else for (let i = 0; i < PROMPTS; i++) hit[i] = r() < spec.canary.affected;
  let sessions: Session[] = [];
  let drift = 1;
  const out: WindowPoint[] = [];
  for (let t = 0; t < spec.seconds; t++) {
    if (t % 60 === 0) drift = 0.7 + 0.6 * r();
    const starts = poisson(r, spec.sessionsPerSecond ?? 4);
    for (let i = 0; i < starts; i++) {
      const left = 1 + Math.floor(-Math.log(1 - r()) * 7);
      sessions.push({ user: Math.floor(r() * USERS), prompt: Math.floor(r() * PROMPTS), left });
    }
    const arms = { canary: [] as number[], stable: [] as number[] };
    for (const s of sessions) {
      const runaway = r() < 0.002 ? 20 : 1;
      let tokens = base[s.prompt]! * userFactor[s.user]! * drift * lognormal(r, 0.6) * runaway;
      if (onCanary[s.user]) {
        tokens *= spec.canary.scale * (hit[s.prompt] ? spec.canary.factor : 1);
        arms.canary.push(Math.round(tokens));
      } else arms.stable.push(Math.round(tokens));
      s.left--;
    }
    sessions = sessions.filter((s) => s.left > 0);
    const variants = new Map<string, VariantStats>();
    if (arms.stable.length > 0) variants.set(SIM_STABLE, stats(arms.stable, spec.sketches));
    if (arms.canary.length > 0) variants.set(SIM_CANARY, stats(arms.canary, spec.sketches));
    if (variants.size > 0) out.push({ startMs: (spec.startMs ?? 0) + 1000 * t, variants });
  }
  return out;
}

function stats(values: number[], sketches = false): VariantStats {
  const sketch = emptySketch();
  if (sketches) for (const v of values) record(sketch, v);
  const m: MetricStats = { count: values.length, sum: values.reduce((a, b) => a + b, 0), sketch };
  return countStats(values.length, 0, undefined, new Map([[TOKENS, m]]));
}
