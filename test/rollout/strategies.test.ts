/**
 * Whole releases of the non-canary strategies through the pure state machine (the scripted mesh of
 * sim.ts confirms each routing version one tick later): blue-green's switch and switch back, the
 * A/B test's end (duration, early conclusion, promotion only when asked) and shadow's mirroring
 * step followed by canary steps.
 */
import { describe, expect, it } from "vitest";
import { planRollout } from "../../controller/rollout/plan.js";
import type { RolloutState } from "../../controller/rollout/types.js";
import { fail, inconclusive, pass, phasesEntered, simulate, spec, weightsSet } from "./sim.js";

/** Analysis that passes 20 s into each step. */
const healthy = (s: RolloutState, now: number) =>
  s.stepStartedAt !== undefined && now - s.stepStartedAt >= 20_000 ? pass() : inconclusive();

const blueGreen = planRollout(
  spec({ blueGreen: { previewDuration: "1m", scrutinyWindow: "5m" } }, { minStepDuration: "30s" }),
);

describe("blue-green", () => {
  const table: Array<
    [string, (s: RolloutState, now: number) => ReturnType<typeof pass> | undefined, number[], string]
  > = [
    [
      "good switch: preview passes, one switch, kept through the window, promoted",
      healthy,
      [0, 10000, 10000],
      "Succeeded",
    ],
    [
      "bad switch: a fail inside the scrutiny window switches back in one step",
      (s, now) => (s.weightBp === 10000 && now - s.stepStartedAt! > 60_000 ? fail() : healthy(s, now)),
      [0, 10000, 0],
      "RolledBack",
    ],
    [
      "bad preview: a fail of the pinned traffic never switches",
      (s, now) => (s.stepStartedAt !== undefined && now - s.stepStartedAt > 10_000 ? fail() : inconclusive()),
      [0, 0],
      "RolledBack",
    ],
  ];
  it.each(table)("%s", (_name, analysis, weights, end) => {
    const { ticks, state } = simulate(blueGreen, { analysis });
    expect(weightsSet(ticks)).toEqual(weights);
    expect(state.phase).toBe(end);
  });

  it("the preview needs an analysis pass: inconclusive pinned traffic holds at 0%", () => {
    const { ticks, state } = simulate(blueGreen, { analysis: () => inconclusive(), maxTicks: 100 });
    expect(weightsSet(ticks)).toEqual([0]);
    expect(state).toMatchObject({ phase: "Progressing", weightBp: 0 });
  });

  it("the old version stays routable through the window and the message says until when", () => {
    const { ticks } = simulate(blueGreen, { analysis: healthy });
    const switched = ticks.findIndex((t) => t.weightBp === 10000);
    const promoted = ticks.findIndex((t) => t.phase === "Promoting");
    // set, confirmed a tick later, then held ≥ 5 min before the promotion
    expect(ticks[promoted]!.now - ticks[switched + 1]!.now).toBeGreaterThanOrEqual(5 * 60_000);
    const during = simulate(blueGreen, { analysis: healthy, maxTicks: switched + 4 }).state;
    expect(during.message).toMatch(
      /^switched: all traffic on the canary; scrutiny window until .*old version kept/,
    );
  });

  it("undo inside the scrutiny window switches back at once and ends on the stable subset", () => {
    let undoAt = -1;
    const { ticks, state } = simulate(blueGreen, {
      analysis: healthy,
      command: (s, tick) => {
        if (s.weightBp === 10000 && s.stepStartedAt !== undefined && undoAt < 0) undoAt = tick;
        return tick === undoAt ? "undo" : undefined;
      },
    });
    expect(weightsSet(ticks)).toEqual([0, 10000, 0]);
    expect(phasesEntered(ticks).slice(-2)).toEqual(["RollingBack", "RolledBack"]);
    expect(state).toMatchObject({ phase: "RolledBack", undone: true, weightBp: 0 });
  });
});

describe("A/B test", () => {
  const ab = (extra: object) => planRollout(spec({ abTest: { weight: 50, duration: "10m", ...extra } }));
  const worse = () => fail("failure-rate: canary 3% vs stable 1%");

  it("a failing comparison is a result: the test runs its duration, reports, and does not roll back", () => {
    const { ticks, state } = simulate(ab({}), { analysis: worse });
    expect(weightsSet(ticks)).toEqual([5000, 0]);
    expect(phasesEntered(ticks)).not.toContain("RollingBack");
    expect(state).toMatchObject({ phase: "Succeeded", report: { verdict: "fail", live: false } });
    const split = ticks.filter((t) => t.weightBp === 5000);
    expect(split.at(-1)!.now - split[0]!.now).toBeGreaterThanOrEqual(10 * 60_000);
  });

  it("stopWhenConclusive ends at the first conclusive comparison", () => {
    const { ticks, state } = simulate(ab({ stopWhenConclusive: true }), { analysis: healthy });
    const split = ticks.filter((t) => t.weightBp === 5000);
    expect(split.at(-1)!.now - split[0]!.now).toBeLessThan(60_000);
    expect(state).toMatchObject({ phase: "Succeeded", weightBp: 0, report: { verdict: "pass" } });
  });

  it.each([
    ["passes", healthy, [5000, 10000], 10000],
    ["fails", worse, [5000, 0], 0],
  ] as const)("promote: true promotes only when the comparison %s… or not", (_n, analysis, weights, end) => {
    const { ticks, state } = simulate(ab({ promote: true }), { analysis });
    expect(weightsSet(ticks)).toEqual(weights);
    expect(state.weightBp).toBe(end);
    expect(state.report).toMatchObject({ strategy: "abTest", live: false });
  });

  it("a live report is in status while the split runs", () => {
    const { state } = simulate(ab({}), { analysis: healthy, maxTicks: 20 });
    expect(state.phase).toBe("Progressing");
    expect(state.report).toMatchObject({ live: true, verdict: "pass", strategy: "abTest" });
  });
});

describe("shadow", () => {
  const shadow = (canarySteps?: { weight: number }[]) =>
    planRollout(spec({ shadow: { duration: "2m", ...(canarySteps ? { canarySteps } : {}) } }));

  it("a passing shadow is promoted into the canary's first step, then walks the canary", () => {
    const { ticks, state } = simulate(shadow([{ weight: 10 }, { weight: 50 }]), { analysis: healthy });
    expect(weightsSet(ticks)).toEqual([0, 1000, 5000, 10000]);
    expect(state.phase).toBe("Succeeded");
  });

  it("a failing shadow rolls back: mirroring stops and no user ever saw the canary", () => {
    const { ticks, state } = simulate(shadow([{ weight: 10 }]), {
      analysis: (s, now) =>
        s.stepStartedAt !== undefined && now - s.stepStartedAt > 30_000 ? fail() : inconclusive(),
    });
    expect(weightsSet(ticks)).toEqual([0, 0]);
    expect(state).toMatchObject({ phase: "RolledBack", step: 0 });
  });

  it("without canary steps a passing shadow ends with a report, traffic on stable", () => {
    const { state } = simulate(shadow(), { analysis: healthy });
    expect(state).toMatchObject({
      phase: "Succeeded",
      weightBp: 0,
      report: { strategy: "shadow", verdict: "pass" },
    });
  });
});
