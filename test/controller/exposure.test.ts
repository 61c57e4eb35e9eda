// The canary's exposure in requests, LLM tokens and LLM cost (docs/llm.md): a small request share
// can carry a large token share.
import { describe, expect, it } from "vitest";
import { exposureOf } from "../../controller/app/exposure.js";
import { emptySketch } from "../../controller/telemetry/sketch.js";
import type { MetricStats, VariantStats, WindowPoint } from "../../controller/telemetry/types.js";
import { countStats } from "../../controller/telemetry/windows.js";

const m = (sum: number, count: number): MetricStats => ({ sum, count, sketch: emptySketch() });

function arm(requests: number, tokens?: number, cost?: number): VariantStats {
  const metrics = new Map<string, MetricStats>();
  if (tokens !== undefined) metrics.set("llm-total-tokens", m(tokens, requests));
  if (cost !== undefined) metrics.set("llm-cost", m(cost, requests));
  return countStats(requests, 0, undefined, metrics);
}

const win = (t: number, canary: VariantStats, stable: VariantStats): WindowPoint => ({
  startMs: t * 1000,
  variants: new Map([
    ["canary", canary],
    ["stable", stable],
  ]),
});

describe("exposureOf", () => {
  it.each([
    {
      name: "5% of requests, twice the tokens per request",
      windows: [
        win(0, arm(5, 1000, 3000), arm(95, 9500, 19000)),
        win(1, arm(5, 1000, 3000), arm(95, 9500, 19000)),
      ],
      want: { requests: 5, tokens: (100 * 2000) / 21000, cost: (100 * 6000) / 44000 },
    },
    { name: "no LLM metrics: requests only", windows: [win(0, arm(10), arm(90))], want: { requests: 10 } },
    { name: "nothing yet", windows: [], want: {} },
  ])("$name", ({ windows, want }) => {
    const got = exposureOf(windows, "canary", "stable");
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [k, v] of Object.entries(want)) expect(got[k as keyof typeof got]).toBeCloseTo(v, 9);
  });
});
