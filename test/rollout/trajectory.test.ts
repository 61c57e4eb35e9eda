import { describe, expect, it } from "vitest";
import { advance } from "../../controller/rollout/advance.js";
import { planRollout, type RolloutPlan } from "../../controller/rollout/plan.js";
import { stateFromStatus } from "../../controller/rollout/status.js";
import type { Command, RolloutState } from "../../controller/rollout/types.js";
import {
  fail,
  inconclusive,
  pass,
  phasesEntered,
  simulate,
  spec,
  T0,
  type World,
  weightsSet,
} from "./sim.js";

const canaryPlan = planRollout(
  spec(
    {
      canary: {
        steps: [
          { weight: 1 },
          { weight: 5, pause: { duration: "1m" } },
          { weight: 25, approval: true },
          { weight: 50 },
        ],
      },
    },
    { minStepDuration: "30s", maxStepDuration: "5m" },
  ),
);

/** Analysis that becomes conclusive 20 s into each step (enough requests by then). */
const healthy = (state: RolloutState, now: number) =>
  state.stepStartedAt !== undefined && now - state.stepStartedAt >= 20_000 ? pass() : inconclusive();
const approveWhenAsked = (state: RolloutState) =>
  state.phase === "Paused" && state.pausedBy === "approval" ? ("approve" as const) : undefined;

/** Operator commands by tick: pause during step 1, resume later, then promote past every step. */
const OPERATOR: Record<number, Command> = { 5: "pause", 30: "resume", 31: "promote-full" };

const SCENARIOS: Array<[string, RolloutPlan, World]> = [
  ["healthy canary", canaryPlan, { analysis: healthy, command: approveWhenAsked }],
  [
    "canary failing at 5%",
    canaryPlan,
    {
      analysis: (s, now) =>
        s.weightBp === 500 && now - s.stepStartedAt! > 10_000 ? fail() : healthy(s, now),
    },
  ],
  ["canary with thin data", canaryPlan, { analysis: () => inconclusive(), command: approveWhenAsked }],
  [
    "blue-green",
    planRollout(spec({ blueGreen: { previewDuration: "2m", approval: true } })),
    { command: approveWhenAsked },
  ],
  ["A/B test", planRollout(spec({ abTest: { weight: 50, duration: "10m" } })), { analysis: healthy }],
  [
    "operator pauses, resumes, then promotes",
    canaryPlan,
    {
      analysis: healthy,
      command: (_s, tick) => OPERATOR[tick],
    },
  ],
];

describe("whole rollouts", () => {
  it("healthy canary: every step once, in order, then promotion", () => {
    const { ticks, state } = simulate(canaryPlan, SCENARIOS[0]![2]);
    expect(weightsSet(ticks)).toEqual([100, 500, 2500, 5000, 10000]);
    expect(phasesEntered(ticks)).toEqual([
      "Progressing",
      "Progressing",
      "Progressing",
      "Paused",
      "Progressing",
      "Promoting",
      "Succeeded",
    ]);
    expect(state.phase).toBe("Succeeded");
    expect(state.weightBp).toBe(10000);
    // step 2 holds for its 1 m pause, not just minStepDuration: set at tick s, confirmed at s+1, left ≥ 60 s later
    const setAt = ticks.findIndex((t) => t.weightBp === 500);
    const leftAt = ticks.findIndex((t) => t.weightBp === 2500);
    expect(ticks[leftAt]!.now - ticks[setAt + 1]!.now).toBeGreaterThanOrEqual(60_000);
    const resets = ticks.flatMap((t) =>
      t.actions.filter((a) => a.kind === "resetAnalysis").map((a) => a.step),
    );
    expect(resets).toEqual([0, 1, 2, 3]);
  });

  it("failing canary rolls back from the failing step and ends RolledBack", () => {
    const { ticks, state } = simulate(canaryPlan, SCENARIOS[1]![2]);
    expect(weightsSet(ticks)).toEqual([100, 500, 0]);
    expect(phasesEntered(ticks).slice(-2)).toEqual(["RollingBack", "RolledBack"]);
    expect(state).toMatchObject({ phase: "RolledBack", step: 1, weightBp: 0 });
    expect(state.lastDecision).toMatchObject({ action: "rollback" });
    const warnings = ticks.flatMap((t) =>
      t.actions.filter((a) => a.kind === "event" && a.type === "Warning"),
    );
    expect(warnings.map((w) => (w.kind === "event" ? w.reason : ""))).toEqual(["RollingBack", "RolledBack"]);
  });

  it("thin data never fails and never advances alone: it pauses for approval after maxStepDuration", () => {
    const { ticks, state } = simulate(canaryPlan, SCENARIOS[2]![2]);
    expect(state.phase).toBe("Succeeded");
    expect(phasesEntered(ticks).filter((p) => p === "Paused")).toHaveLength(4);
    const firstPause = ticks.find((t) => t.phase === "Paused")!;
    expect(firstPause.now - T0).toBeGreaterThanOrEqual(5 * 60_000);
  });

  it("blue-green previews at 0% (pins only) until approved, then switches to 100% at once", () => {
    const { ticks, state } = simulate(SCENARIOS[3]![1], SCENARIOS[3]![2]);
    // The switch is one routing change; the promotion after the scrutiny window re-confirms 100%.
    expect(weightsSet(ticks)).toEqual([0, 10000, 10000]);
    expect(phasesEntered(ticks)).toEqual(["Progressing", "Paused", "Progressing", "Promoting", "Succeeded"]);
    expect(state.phase).toBe("Succeeded");
  });

  it("A/B test holds the split for its duration, then reports and returns traffic to stable", () => {
    const { ticks, state } = simulate(SCENARIOS[4]![1], SCENARIOS[4]![2]);
    expect(weightsSet(ticks)).toEqual([5000, 0]);
    expect(state.phase).toBe("Succeeded");
    expect(state.report).toMatchObject({
      strategy: "abTest",
      weightBp: 5000,
      verdict: "pass",
      checks: [{ name: "failure-rate" }],
    });
    const split = ticks.filter((t) => t.weightBp === 5000);
    expect(split.at(-1)!.now - split[0]!.now).toBeGreaterThanOrEqual(10 * 60_000);
  });

  it("operator pause holds the step; promote --full skips the rest", () => {
    const { ticks, state } = simulate(canaryPlan, SCENARIOS[5]![2]);
    expect(ticks[5]!.phase).toBe("Paused");
    expect(
      ticks
        .slice(5, 30)
        .every((t) => t.phase === "Paused" && t.actions.every((a) => a.kind !== "setWeights")),
    ).toBe(true);
    expect(weightsSet(ticks).at(-1)).toBe(10000);
    expect(state.phase).toBe("Succeeded");
  });

  it("no strategy is reported as not supported, once", () => {
    const plan = planRollout(spec({}));
    const first = advance(stateFromStatus(plan, undefined), { meshReady: true }, T0);
    expect(first.state).toMatchObject({ phase: "Initializing", message: "no strategy set" });
    expect(first.state.conditions.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "StrategyNotSupported",
    });
    expect(first.actions.filter((a) => a.kind === "event")).toEqual([
      { kind: "event", type: "Warning", reason: "StrategyNotSupported", message: "no strategy set" },
    ]);
    expect(advance(first.state, { meshReady: true }, T0 + 5000).actions).toEqual([]);
  });
});

describe("restart safety", () => {
  it.each(SCENARIOS)(
    "%s: restoring from status between every tick gives the same trajectory",
    (_name, plan, world) => {
      const straight = simulate(plan, world);
      const restored = simulate(plan, { ...world, restore: true });
      expect(straight.ticks.length).toBeGreaterThan(5);
      expect(restored.ticks).toEqual(straight.ticks);
      expect(restored.state).toEqual(straight.state);
    },
  );
});
