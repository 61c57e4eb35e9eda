/**
 * The demo's live output as the issue asks for it: the checks listed up front, one line per
 * decision, one clock for every scenario, lines of at most 100 columns, and a summary that counts
 * the steps actually walked. Decisions and reasons are those of a real demo run (build/demo-report.json).
 */
import { describe, expect, it } from "vitest";
import { demoCanary, DEMO_ANALYSIS, repoRoot } from "../../sandbox/demo/manifests.js";
import { checksHeader, eventLine, fitChecks, LINE_WIDTH, summaryRow } from "../../sandbox/demo/render.js";
import { Progress, scenarioPlans } from "../../sandbox/demo/scenario.js";
import {
  type DecisionLine,
  initialState,
  type Observation,
  observe,
  type ScenarioState,
} from "../../sandbox/demo/scenario-state.js";
import type { CanarySpec } from "../../controller/spec/schema.js";

const T0 = Date.parse("2026-12-07T08:52:01.214Z");
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const [healthyPlan, faultyPlan] = scenarioPlans({
  scenario: "both",
  speed: 1,
  fault: { kind: "error-rate", rate: 0.05 },
});

const advance: DecisionLine = {
  at: iso(31_002),
  action: "advance",
  reason:
    "failure-rate: failure rate: canary 2/855 = 0.234%, stable 0.153%, 99.91666666666667% range 0.000407%..1.97%, below max 2.00%; no evidence against stable",
  checks: [
    {
      name: "failure-rate",
      verdict: "pass",
      value: 0.0023391812865497076,
      threshold: 0.02,
      eValue: 0.6063514398316293,
    },
    {
      name: "latency-p90",
      verdict: "pass",
      value: 14.318697803229558,
      threshold: 100,
      eValue: 0.6047339398288668,
    },
  ],
};
const rollback: DecisionLine = {
  at: iso(49_870),
  action: "rollback",
  reason:
    "failure-rate: failure rate vs stable: canary worse than 1x stable (e=1.9e+3 >= 1.2e+3; canary 36/858, stable 9/2923) [alpha 0.01 split over 3 test(s) x 4 step(s): 0.000833 each]",
  checks: [
    {
      name: "failure-rate",
      verdict: "fail",
      value: 13.627039627039627,
      threshold: 1,
      eValue: 1903.5590880955533,
    },
    {
      name: "latency-p90",
      verdict: "pass",
      value: 14.607935498854795,
      threshold: 100,
      eValue: 0.6278065917163559,
    },
  ],
};
const history = (atMs: number, from: string, to: string, step: number, weightBp: number, reason: string) => ({
  at: iso(atMs),
  from,
  to,
  step,
  weightBp,
  reason,
});
const obs = (atMs: number, status: Observation["status"]): Observation => ({
  nowMs: T0 + atMs,
  counters: {},
  canaryToStableAt: [],
  servedByVersion: {},
  ...(status ? { status } : {}),
});

/** The faulty run of the report: step 1, step 2 (fault), rollback with its decision, RolledBack. */
function faultyRun(startMs = 0): ScenarioState {
  let s = initialState(faultyPlan!, T0 + startMs);
  const h1 = history(79, "Initializing", "Progressing", 0, 1000, "step 1/4 at 10%: mesh ready");
  const h2 = history(
    35_898,
    "Progressing",
    "Progressing",
    1,
    2500,
    `step 2/4 at 25%: analysis passed: ${advance.reason}`,
  );
  const h3 = history(49_870, "Progressing", "RollingBack", 1, 0, `analysis failed: ${rollback.reason}`);
  const h4 = history(
    50_145,
    "RollingBack",
    "RolledBack",
    1,
    0,
    "routing version 3 in force: all traffic is back on the stable subset",
  );
  s = observe(
    s,
    obs(1000, { phase: "Progressing", step: 0, weightBp: 1000, stepStartedAt: iso(900), history: [h1] }),
  );
  s = observe(
    s,
    obs(40_000, {
      phase: "Progressing",
      step: 1,
      weightBp: 2500,
      stepStartedAt: iso(36_500),
      history: [h1, h2],
    }),
  );
  s = observe(
    s,
    obs(49_900, {
      phase: "RollingBack",
      step: 1,
      weightBp: 0,
      lastDecision: rollback,
      history: [h1, h2, h3],
    }),
  );
  s = observe(
    s,
    obs(50_200, {
      phase: "RolledBack",
      step: 1,
      weightBp: 0,
      lastDecision: rollback,
      history: [h1, h2, h3, h4],
    }),
  );
  return s;
}

function printed(states: ScenarioState[], nowMs: number): string[] {
  const writes: string[] = [];
  new Progress({ write: (t) => writes.push(t), isTTY: false }).update(states, nowMs);
  return writes.join("").trimEnd().split("\n");
}

describe("demo live output", () => {
  it("lists the demo Canary's checks up front, within 100 columns", () => {
    const spec = demoCanary(repoRoot(), "reviews", healthyPlan!.steps, DEMO_ANALYSIS).spec as CanarySpec;
    const lines = checksHeader(spec.analysis ?? {});
    expect(lines).toEqual([
      "checks, canary against stable at every step (anytime-valid tests, α = 0.01):",
      "  failure-rate  failure rate ≤ 2% and no worse than stable",
      "  latency-p90   p90 latency ≤ 100 ms",
      "  a step advances after ≥ 3000ms with ≥ 100 requests per variant and every check passing",
      "  each decision below: ✔ pass ✖ fail … undecided; value (limit); evidence against the canary (×)",
    ]);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(LINE_WIDTH);
  });

  it("prints one line per decision, folded with the transition it made, each within 100 columns", () => {
    const lines = printed([faultyRun()], T0 + 60_000);
    expect(lines).toEqual([
      "+  0.0s faulty   Canary applied",
      "+  0.1s faulty   Initializing → Progressing, step 1 at 10%: mesh ready",
      "+ 35.9s faulty   Progressing → Progressing, step 2 at 25%: analysis passed: failure-rate: failure r…",
      "+ 40.0s faulty   25% Progressing · stable – · canary –",
      "+ 49.9s faulty   rollback: ✖ failure-rate 13.63 (limit 1) evidence 1904×; ✔ latency-p90 14.61",
      "+ 49.9s faulty   0% RollingBack · stable – · canary –",
      "+ 50.1s faulty   RollingBack → RolledBack: routing version 3 in force: all traffic is back on the s…",
    ]);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(LINE_WIDTH);
  });

  it("drops a passing check's figures before a failing one's, and fits any number of checks", () => {
    const many: DecisionLine = {
      ...rollback,
      checks: [
        ...rollback.checks,
        { name: "tokens-per-request", verdict: "pass", value: 1.02, threshold: 1.5, eValue: 0.3 },
        { name: "latency-p99-vs-stable", verdict: "inconclusive", value: 1.1, threshold: 1.2, eValue: 4.2 },
      ],
    };
    const line = eventLine("faulty", T0, { atMs: T0 + 49_870, kind: "decision", decision: many })!;
    expect(line.length).toBeLessThanOrEqual(LINE_WIDTH);
    expect(line).toContain("✖ failure-rate 13.63 (limit 1) evidence 1904×");
    const advanced = eventLine("healthy", T0, {
      atMs: T0 + 31_002,
      kind: "transition",
      ...history(31_002, "Progressing", "Progressing", 1, 2500, "step 2/4 at 25%: analysis passed"),
      decision: advance,
    })!;
    expect(advanced).toBe(
      "+ 31.0s healthy  advance to step 2 (25%): ✔ failure-rate 0.002339; ✔ latency-p90 14.32",
    );
  });

  it("times every scenario on one clock: the first Canary applied", () => {
    const healthy = initialState(healthyPlan!, T0);
    const faulty = faultyRun(700);
    const lines = printed([healthy, faulty], T0 + 60_000);
    expect(lines[0]).toBe("+  0.0s healthy  Canary applied");
    expect(lines).toContain("+  0.7s faulty   Canary applied");
    // Printed in time order across scenarios.
    const times = lines.map((l) => Number(l.slice(1, 7)));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The rollback at T0 + 49.87 s reads the same whichever scenario's start one counts from.
    expect(lines.find((l) => l.includes("rollback"))).toMatch(/^\+ 49\.9s faulty {3}rollback/);
  });

  it("counts the steps actually walked, not the step index reached", () => {
    expect(summaryRow(faultyRun()).stepsWalked).toBe("2/4");
    // A step set but never in force before the rollback is not walked.
    let s = initialState(faultyPlan!, T0);
    s = observe(s, obs(1000, { phase: "Progressing", step: 0, weightBp: 1000, stepStartedAt: iso(500) }));
    s = observe(s, obs(2000, { phase: "Progressing", step: 1, weightBp: 2500 }));
    s = observe(s, obs(3000, { phase: "Aborted", step: 1, weightBp: 0 }));
    expect(summaryRow(s)).toMatchObject({ stepsWalked: "1/4", outcome: "Aborted" });
    // Succeeded by a promotion that skipped steps: only the steps in force count.
    let promoted = initialState(healthyPlan!, T0);
    promoted = observe(
      promoted,
      obs(1000, { phase: "Progressing", step: 0, weightBp: 1000, stepStartedAt: iso(500) }),
    );
    promoted = observe(promoted, obs(2000, { phase: "Succeeded", step: 0, weightBp: 10000 }));
    expect(summaryRow(promoted).stepsWalked).toBe("1/4");
  });
});

describe("fitChecks", () => {
  it("shrinks an undecided check after the passing ones, never the failing one", () => {
    const checks = [
      { name: "failure-rate", verdict: "fail", value: 0.05301, threshold: 0.02, eValue: 1545 },
      { name: "latency-p90", verdict: "inconclusive", value: 131.8, threshold: 100, eValue: 3.2 },
      { name: "tokens", verdict: "pass", value: 1.1, threshold: 1.5, eValue: 0.2 },
    ];
    const widths: Array<[number, string]> = [
      [
        200,
        "rollback: ✖ failure-rate 0.05301 (limit 0.02) evidence 1545×; … latency-p90 131.8 (limit 100) evidence 3.2×; ✔ tokens 1.1 (limit 1.5) evidence 0.2×",
      ],
      [
        103,
        "rollback: ✖ failure-rate 0.05301 (limit 0.02) evidence 1545×; … latency-p90 131.8 (limit 100); ✔ tokens",
      ],
      [100, "rollback: ✖ failure-rate 0.05301 (limit 0.02) evidence 1545×; … latency-p90 131.8; ✔ tokens"],
      [85, "rollback: ✖ failure-rate 0.05301 (limit 0.02) evidence 1545×; … latency-p90; ✔ tokens"],
      [40, "rollback: ✖ failure-rate 0.05301 (limit…"],
    ];
    for (const [width, expected] of widths) {
      const line = fitChecks("rollback", checks, width);
      expect(line, `${width}`).toBe(expected);
      expect(line.length).toBeLessThanOrEqual(width);
    }
  });
});
