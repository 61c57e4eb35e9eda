/**
 * The canary's exposure in the current step: its share of requests next to its share of LLM tokens
 * and cost (docs/llm.md), since a 5% request share can carry a very different share of tokens. Pure.
 */
import type { Exposure } from "../api/types.js";
import type { WindowPoint } from "../telemetry/types.js";

const TOKENS = "llm-total-tokens";
const COST = "llm-cost";

/** Canary shares (percent) over `windows`; a share with nothing on either arm is left out. */
export function exposureOf(windows: readonly WindowPoint[], canary: string, stable: string): Exposure {
  const sums = { canary: { requests: 0, tokens: 0, cost: 0 }, stable: { requests: 0, tokens: 0, cost: 0 } };
  for (const w of windows) {
    for (const [arm, variant] of [
      ["canary", canary],
      ["stable", stable],
    ] as const) {
      const s = w.variants.get(variant);
      if (!s) continue;
      sums[arm].requests += s.requests;
      sums[arm].tokens += s.metrics.get(TOKENS)?.sum ?? 0;
      sums[arm].cost += s.metrics.get(COST)?.sum ?? 0;
    }
  }
  const share = (k: "requests" | "tokens" | "cost") => {
    const total = sums.canary[k] + sums.stable[k];
    return total > 0 ? (100 * sums.canary[k]) / total : undefined;
  };
  const out: Exposure = {};
  for (const k of ["requests", "tokens", "cost"] as const) {
    const v = share(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** status.exposure: the shares rounded to 0.01 percent; undefined when no share has data. */
export function statusExposure(windows: readonly WindowPoint[]): Exposure | undefined {
  const rounded = Object.entries(exposureOf(windows, "canary", "stable")).map(([k, v]) => [
    k,
    Math.round(v * 100) / 100,
  ]);
  return rounded.length > 0 ? (Object.fromEntries(rounded) as Exposure) : undefined;
}
