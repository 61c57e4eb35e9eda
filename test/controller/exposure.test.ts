// The canary's exposure in requests, LLM tokens and LLM cost (docs/llm.md): a small request share
// can carry a large token share.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { exposureOf, statusExposure } from "../../controller/app/exposure.js";
import { Reconciler } from "../../controller/app/reconciler.js";
import { revisionOf } from "../../controller/app/revision.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import { healthySpec, offlineRunner } from "./harness.js";
import { formatStatus } from "../../controller/cli/format-status.js";
import { statusView } from "../../controller/cli/status-view.js";
import type { CanaryObject } from "../../controller/kube/canaries.js";
import { emptySketch } from "../../controller/telemetry/sketch.js";
import type {
  MetricStats,
  TelemetryReader,
  VariantStats,
  WindowPoint,
} from "../../controller/telemetry/types.js";
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

describe("status.exposure and `meshcanary status`", () => {
  it.each([
    {
      name: "rounded to 0.01 percent",
      windows: [win(0, arm(5, 1000, 3000), arm(95, 9500, 19000))],
      want: { requests: 5, tokens: 9.52, cost: 13.64 },
    },
    { name: "nothing yet: no field", windows: [], want: undefined },
  ])("$name", ({ windows, want }) => {
    expect(statusExposure(windows)).toEqual(want);
  });

  it("shows the shares under Exposure", () => {
    const canary = {
      apiVersion: "meshcanary.io/v1alpha1",
      kind: "Canary",
      metadata: { name: "assistant", namespace: "default" },
      spec: {},
      status: {
        phase: "Progressing",
        step: 0,
        weightBp: 500,
        exposure: { requests: 5, tokens: 9.52, cost: 13.64 },
      },
    } as unknown as CanaryObject;
    expect(formatStatus(statusView(canary))).toContain(
      "Exposure:  5% of requests · 9.52% of tokens · 13.64% of cost",
    );
  });
});

describe("one read of the step's windows per tick", () => {
  const spec = healthySpec([5, 50], { llm: {} });
  const stepStartedAt = Date.parse("2026-12-07T10:00:05Z");
  const canary = {
    apiVersion: "meshcanary.io/v1alpha1",
    kind: "Canary",
    metadata: { name: "reviews", namespace: "default", uid: "u", generation: 1 },
    spec,
    status: {
      phase: "Progressing",
      step: 0,
      weightBp: 500,
      routingVersion: 1,
      revision: revisionOf(spec as CanarySpec),
      stepStartedAt: "2026-12-07T10:00:05Z",
    },
  } as unknown as CanaryObject;

  it("feeds the analysis and status.exposure from the same series", async () => {
    const reads: [number, number][] = [];
    const windows = Array.from({ length: 30 }, (_, i) =>
      win(stepStartedAt / 1000 + i, arm(5, 1000, 3000), arm(95, 9500, 19000)),
    );
    const reader = {
      routingVersions: () => new Map(),
      series: (_: string, from: number, to: number) => {
        reads.push([from, to]);
        return windows.filter((w) => w.startMs >= from && w.startMs < to);
      },
    } as unknown as TelemetryReader;
    const patches: Record<string, unknown>[] = [];
    const runner = offlineRunner(async (_ns, _name, patch) => {
      patches.push(patch);
      return undefined;
    });
    const logger = pino({ level: "silent" });
    const reconciler = new Reconciler({ runner, reader, logger, publish: () => undefined });
    reconciler.upsert(canary);
    const now = stepStartedAt + 20_500;
    await reconciler.tick(now);
    // The step's windows once (analysis, exposure at every status write); the other two reads are
    // stable's baseline before the step and the progress deadline's count up to the open window.
    expect(reads).toEqual([
      [stepStartedAt, now],
      [stepStartedAt - 300_000, stepStartedAt],
      [stepStartedAt, now + 1000],
    ]);
    const exposure = patches.map((p) => p.exposure).find((e) => e !== undefined);
    expect(exposure).toEqual({ requests: 5, tokens: 9.52, cost: 13.64 });
  });
});
