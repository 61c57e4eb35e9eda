/**
 * The dashboard's pure modules (controller/api/dashboard/*.js, served to the browser as they are),
 * imported into Node: step plan, decision of the rollout under way, rollout rows, evidence lines,
 * LLM chart figures and the weight line. The browser tests check the same through the page.
 */
import { beforeAll, describe, expect, it } from "vitest";

// Plain JS modules without type declarations: imported by a computed path, typed by hand.
type Mod = Record<string, unknown>;
const load = (name: string): Promise<Mod> => import(`../../controller/api/dashboard/${name}.js`);

const T0 = Date.UTC(2025, 0, 1, 12);
const iso = (ms: number) => new Date(ms).toISOString();

let plan: Mod;
let history: Mod;
let evidence: Mod;
let llm: Mod;
let lines: Mod;
beforeAll(async () => {
  [plan, history, evidence, llm, lines] = await Promise.all(
    ["plan", "history", "evidence", "llm", "lines"].map(load),
  );
});

const steps = [
  { weight: 10, holdMs: 60_000, gate: "analysis" },
  { weight: 50, holdMs: 90_000, gate: "approval" },
  { weight: 100, holdMs: 30_000, gate: "time" },
];

describe("stepPlan", () => {
  type Row = { label: string; state: string; note: string };
  const stepPlan = (c: unknown, now: number) => (plan.stepPlan as (c: unknown, n: number) => Row[])(c, now);
  const cases: Array<{
    name: string;
    c: Record<string, unknown>;
    now: number;
    want: Array<[string, string]>;
  }> = [
    {
      name: "time left in the current step",
      c: { phase: "Progressing", step: 1, stepStartedAt: iso(T0) },
      now: T0 + 25_000,
      want: [
        ["done", "hold 1m 00s"],
        ["current", "1m 05s left"],
        ["next", "hold 30s"],
      ],
    },
    {
      name: "hold over: what the step waits for",
      c: { phase: "Progressing", step: 1, stepStartedAt: iso(T0) },
      now: T0 + 91_000,
      want: [
        ["done", "hold 1m 00s"],
        ["current", "waiting for approval"],
        ["next", "hold 30s"],
      ],
    },
    {
      name: "weights not yet in force",
      c: { phase: "Progressing", step: 0 },
      now: T0,
      want: [
        ["current", "waiting for the weights to be in force"],
        ["next", "hold 1m 30s + approval"],
        ["next", "hold 30s"],
      ],
    },
    {
      name: "paused",
      c: { phase: "Paused", step: 0, stepStartedAt: iso(T0) },
      now: T0 + 1000,
      want: [
        ["current", "paused"],
        ["next", "hold 1m 30s + approval"],
        ["next", "hold 30s"],
      ],
    },
    {
      name: "rolled back at step 2",
      c: { phase: "RolledBack", step: 1 },
      now: T0,
      want: [
        ["done", "hold 1m 00s"],
        ["stopped", "hold 1m 30s + approval"],
        ["next", "hold 30s"],
      ],
    },
    {
      name: "succeeded: every step done",
      c: { phase: "Succeeded", step: 2 },
      now: T0,
      want: [
        ["done", "hold 1m 00s"],
        ["done", "hold 1m 30s + approval"],
        ["done", "hold 30s"],
      ],
    },
  ];
  for (const k of cases) {
    it(k.name, () => {
      const rows = stepPlan({ plan: steps, ...k.c }, k.now);
      expect(rows.map((r) => [r.state, r.note])).toEqual(k.want);
      expect(rows.map((r) => r.label)).toEqual(["10%", "50%", "100%"]);
    });
  }

  it("formats durations", () => {
    const f = plan.fmtDuration as (ms: number) => string;
    expect([0, 999, 59_000, 61_000, 3_600_000 + 180_000].map(f)).toEqual([
      "0s",
      "1s",
      "59s",
      "1m 01s",
      "1h 03m",
    ]);
  });
});

describe("currentDecision and rolloutRows", () => {
  const decision = { at: iso(T0), action: "hold", reason: "inconclusive", checks: [] };
  const current = (c: unknown) => (history.currentDecision as (c: unknown) => Record<string, unknown>)(c);

  it("shows the decision of the rollout under way only", () => {
    const rollouts = [{ startedAt: iso(T0 - 1000) }];
    expect(current({ phase: "Progressing", lastDecision: decision, rollouts })).toEqual({ decision });
    // Taken before a retry or a new revision started the rollout: not this rollout's.
    expect(
      current({ phase: "Progressing", lastDecision: decision, rollouts: [{ startedAt: iso(T0 + 1) }] }),
    ).toEqual({
      note: "No decision in this rollout yet.",
    });
    // Cleared once the rollout ended: it moves to the rollout's row.
    expect(current({ phase: "RolledBack", lastDecision: decision, rollouts }).note).toMatch(
      /ended \(RolledBack\)/,
    );
    expect(current({ phase: "Progressing" })).toEqual({ note: "No decision in this rollout yet." });
  });

  it("gives each rollout its outcome, duration, reach and final decision", () => {
    const rows = (history.rolloutRows as (r: unknown, n: number) => unknown[])(
      [
        { startedAt: iso(T0), phase: "Progressing", reason: "step passed", maxStep: 0, maxWeight: 10 },
        {
          startedAt: iso(T0 - 600_000),
          endedAt: iso(T0 - 510_000),
          phase: "RolledBack",
          reason: "all traffic back",
          maxStep: 2,
          maxWeight: 50,
          finalDecision: { ...decision, action: "rollback", reason: "failure-rate failed" },
        },
      ],
      T0 + 5000,
    );
    expect(rows).toEqual([
      {
        startedAt: T0,
        phase: "Progressing",
        running: true,
        took: "5s",
        reach: "step 1 · 10%",
        why: "step passed",
      },
      {
        startedAt: T0 - 600_000,
        phase: "RolledBack",
        running: false,
        took: "1m 30s",
        reach: "step 3 · 50%",
        why: "rollback: failure-rate failed",
      },
    ]);
  });
});

describe("evidenceLines", () => {
  type Out = {
    lines: Array<{ label: string; values: Array<[number, number | null]> }>;
    yMin: number;
    yMax: number;
  };
  const ev = (e: unknown, d: [number, number]) =>
    (evidence.evidenceLines as (e: unknown, d: unknown) => Out)(e, d);

  it("draws log10 e-values per check, restarting at each step, and the rollback level", () => {
    const out = ev(
      {
        rollbackAt: 100,
        points: [
          { t: 1, step: 0, e: { f: 1, l: 0.5 } },
          { t: 2, step: 0, e: { f: 10, l: 0.0001 } },
          { t: 3, step: 1, e: { f: 1000 } },
        ],
      },
      [0, 10],
    );
    expect(out.lines.map((l) => l.label)).toEqual(["f", "l", "rollback at 100×"]);
    expect(out.lines[0]!.values).toEqual([
      [1, 0],
      [2, 1],
      [3, null],
      [3, 3],
    ]);
    // Below the floor (0.01×) sits on it; a check missing from a point is a gap.
    expect(out.lines[1]!.values).toEqual([
      [1, Math.log10(0.5)],
      [2, -2],
      [3, null],
      [3, null],
    ]);
    expect(out.lines[2]!.values).toEqual([
      [0, 2],
      [10, 2],
    ]);
    // Whole decades, the span a multiple of 4 grid steps: -2 .. 6 here (1000× needs 3).
    expect([out.yMin, out.yMax]).toEqual([-2, 6]);
    const fmt = evidence.fmtEvidence as (v: number) => string;
    expect([-2, 0, 2, 6, -4].map(fmt)).toEqual(["0.01×", "1×", "100×", "1e6×", "1e-4×"]);
  });

  it("has no lines without evidence", () => {
    expect(ev(undefined, [0, 1])).toEqual({ lines: [], yMin: -2, yMax: 2 });
  });
});

describe("LLM charts", () => {
  const charts = () => llm.LLM_CHARTS as Array<{ id: string; value: (v: unknown) => number | null }>;
  const v = (requests: number, metrics: Record<string, number>) => ({ requests, metrics });

  it("tokens and cost per request, guardrail blocks as a percentage, from the metric means", () => {
    const [tokens, cost, guard] = charts();
    const point = v(20, { "llm-total-tokens": 412.5, "llm-cost": 2500, "llm-guardrail-blocks": 0.05 });
    expect([tokens!.value(point), cost!.value(point), guard!.value(point)]).toEqual([412.5, 2.5, 5]);
    // Requests without the tallies: no token or cost figure, no guardrail block.
    expect([tokens!.value(v(3, {})), cost!.value(v(3, {})), guard!.value(v(3, {}))]).toEqual([null, null, 0]);
    // No requests: nothing to draw.
    expect(charts().map((c) => c.value(v(0, {})))).toEqual([null, null, null]);
    expect(llm.LLM_CHARTED).toEqual(["llm-total-tokens", "llm-cost", "llm-guardrail-blocks"]);
  });
});

describe("weightLines", () => {
  type L = Array<{ values: Array<[number, number]> }>;
  const wl = (c: unknown, d: [number, number]) =>
    (lines.weightLines as (c: unknown, d: unknown) => L)(c, d)[0]!.values;
  const timeline = [
    { at: iso(T0 + 10_000), weight: 10 },
    { at: iso(T0 + 40_000), weight: 25 },
  ];

  it("starts when the Canary was created, at 0% until its first transition", () => {
    const c = { createdAt: iso(T0), timeline, canaryWeight: 25 };
    expect(wl(c, [T0 - 60_000, T0 + 60_000])).toEqual([
      [T0, 0],
      [T0 + 10_000, 0],
      [T0 + 10_000, 10],
      [T0 + 40_000, 10],
      [T0 + 40_000, 25],
      [T0 + 60_000, 25],
    ]);
    // Created before the window: from the window's start, at the weight then in force.
    expect(wl(c, [T0 + 20_000, T0 + 60_000])[0]).toEqual([T0 + 20_000, 10]);
  });

  it("without a creation time, from the window's start at the first known weight", () => {
    expect(wl({ timeline, canaryWeight: 25 }, [T0, T0 + 60_000])[0]).toEqual([T0, 10]);
  });
});
