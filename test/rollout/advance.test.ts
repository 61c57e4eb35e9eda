import { describe, expect, it } from "vitest";
import { advance } from "../../controller/rollout/advance.js";
import { HISTORY_LIMIT } from "../../controller/rollout/tick.js";
import { planRollout } from "../../controller/rollout/plan.js";
import { stateFromStatus } from "../../controller/rollout/status.js";
import {
  type Action,
  COMMANDS,
  type Command,
  type Observation,
  type RolloutState,
} from "../../controller/rollout/types.js";
import { PHASES } from "../../controller/spec/schema.js";
import { fail, inconclusive, pass, spec, T0 } from "./sim.js";

// Two steps (10%, 50%), each held ≥ 30 s; inconclusive for 2 min pauses for approval.
const plan = planRollout(
  spec(
    { canary: { steps: [{ weight: 10 }, { weight: 50 }] } },
    { minStepDuration: "30s", maxStepDuration: "2m" },
  ),
);
const base = stateFromStatus(plan, { revision: "r1" });

/** A state in each phase as a rollout of `plan` would have it. */
const STATES: Record<string, RolloutState> = {
  Initializing: base,
  Progressing: { ...base, phase: "Progressing", weightBp: 1000, routingVersion: 1, stepStartedAt: T0 },
  "Paused(approval)": {
    ...base,
    phase: "Paused",
    pausedBy: "approval",
    weightBp: 1000,
    routingVersion: 1,
    stepStartedAt: T0,
  },
  "Paused(manual)": {
    ...base,
    phase: "Paused",
    pausedBy: "manual",
    weightBp: 1000,
    routingVersion: 1,
    stepStartedAt: T0,
  },
  Promoting: { ...base, phase: "Promoting", step: 1, weightBp: 10000, routingVersion: 3, stepStartedAt: T0 },
  Succeeded: { ...base, phase: "Succeeded", step: 1, weightBp: 10000, routingVersion: 3, stepStartedAt: T0 },
  RollingBack: { ...base, phase: "RollingBack", weightBp: 0, routingVersion: 2, stepStartedAt: T0 },
  RolledBack: { ...base, phase: "RolledBack", weightBp: 0, routingVersion: 2, stepStartedAt: T0 },
  Aborted: { ...base, phase: "Aborted", weightBp: 0, routingVersion: 2, stepStartedAt: T0 },
};

const of = <K extends Action["kind"]>(actions: Action[], kind: K) =>
  actions.filter((a): a is Extract<Action, { kind: K }> => a.kind === kind);
const canaryWeightsSet = (actions: Action[]) => of(actions, "setWeights").map((a) => a.variants[1]!.weightBp);

describe("commands in every phase", () => {
  // The commands that apply: [state, command, phase after, pausedBy after, canary weights set, step after].
  // Every other state × command pair is refused and changes nothing.
  const applied: Array<[string, Command, string, string | undefined, number[], number]> = [
    ["Initializing", "abort", "Aborted", undefined, [], 0],
    ["Progressing", "promote", "Progressing", undefined, [5000], 1],
    ["Progressing", "promote-full", "Promoting", undefined, [10000], 0],
    ["Progressing", "pause", "Paused", "manual", [], 0],
    ["Progressing", "abort", "Aborted", undefined, [0], 0],
    ["Paused(approval)", "promote", "Progressing", undefined, [5000], 1],
    ["Paused(approval)", "promote-full", "Promoting", undefined, [10000], 0],
    ["Paused(approval)", "approve", "Progressing", undefined, [5000], 1],
    ["Paused(approval)", "abort", "Aborted", undefined, [0], 0],
    ["Paused(manual)", "promote", "Progressing", undefined, [5000], 1],
    ["Paused(manual)", "promote-full", "Promoting", undefined, [10000], 0],
    ["Paused(manual)", "resume", "Progressing", undefined, [], 0],
    ["Paused(manual)", "abort", "Aborted", undefined, [0], 0],
    ["Promoting", "abort", "Aborted", undefined, [0], 1],
    ["Promoting", "undo", "RollingBack", undefined, [0], 1],
    ["RollingBack", "abort", "Aborted", undefined, [], 0],
    ["Succeeded", "undo", "RollingBack", undefined, [0], 1],
    ["RolledBack", "retry", "Initializing", undefined, [], 0],
    ["Aborted", "retry", "Initializing", undefined, [], 0],
  ];
  const key = (state: string, command: string) => `${state}/${command}`;
  const appliedKeys = new Set(applied.map(([s, c]) => key(s, c)));
  const refused = Object.keys(STATES).flatMap((name) =>
    COMMANDS.filter((c) => !appliedKeys.has(key(name, c))).map((c) => [name, c] as [string, Command]),
  );

  it.each(applied)("%s + %s → %s", (name, command, phase, pausedBy, weights, step) => {
    const before = STATES[name]!;
    const { state, actions } = advance(before, { command }, T0 + 1000);
    expect(canaryWeightsSet(actions)).toEqual(weights);
    expect(state.step).toBe(step);
    expect(state.pausedBy).toBe(pausedBy);
    expect(state.phase).toBe(phase);
    expect(of(actions, "webhook").map((w) => w.event)).toEqual([phase]);
    expect(state.history.at(-1)).toMatchObject({ from: before.phase, to: phase });
    expect(of(actions, "commandHandled")).toEqual([
      { kind: "commandHandled", command, applied: true, message: state.history.at(-1)!.reason },
    ]);
  });

  it.each(refused)("%s + %s is refused with the reason", (name, command) => {
    const before = STATES[name]!;
    const { state, actions } = advance(before, { command }, T0 + 1000);
    expect(canaryWeightsSet(actions)).toEqual([]);
    expect(state.phase).toBe(before.phase);
    expect(state.step).toBe(before.step);
    expect(state.pausedBy).toBe(before.pausedBy);
    expect(of(actions, "webhook")).toEqual([]);
    const message = expect.stringMatching(
      new RegExp(`^${command} does not apply in phase ${before.phase}.*: it applies `),
    );
    expect(of(actions, "event")).toEqual([
      { kind: "event", type: "Warning", reason: "CommandRefused", message },
    ]);
    expect(of(actions, "commandHandled")).toEqual([
      { kind: "commandHandled", command, applied: false, message },
    ]);
  });

  it("covers every phase and command", () => {
    const covered = new Set([...applied, ...refused].map(([s, c]) => `${STATES[s]!.phase}/${c}`));
    expect(covered.size).toBe(PHASES.length * COMMANDS.length);
  });

  it("promote at the last step promotes; undo of an A/B test report is refused", () => {
    const last = { ...STATES.Progressing!, step: 1, weightBp: 5000 };
    expect(advance(last, { command: "promote" }, T0).state.phase).toBe("Promoting");
    const report = { ...STATES.Succeeded!, weightBp: 0 };
    const undone = advance(report, { command: "undo" }, T0);
    expect(undone.state.phase).toBe("Succeeded");
    expect(of(undone.actions, "commandHandled")[0]).toMatchObject({ applied: false });
  });

  it("undo ends RolledBack and marked undone; retry starts afresh from step 1", () => {
    const undo = advance(STATES.Succeeded!, { command: "undo" }, T0);
    const back = advance(undo.state, { weightsApplied: { version: undo.state.routingVersion } }, T0 + 1);
    expect(back.state).toMatchObject({ phase: "RolledBack", weightBp: 0, undone: true });
    const retry = advance(back.state, { command: "retry" }, T0 + 2);
    expect(retry.state).toMatchObject({ phase: "Initializing", step: 0, weightBp: 0 });
    expect(retry.state.undone).toBeUndefined();
    expect(retry.state.analysisState).toBeUndefined();
    const started = advance(retry.state, { meshReady: true }, T0 + 3);
    expect(started.state).toMatchObject({ phase: "Progressing", step: 0, weightBp: 1000 });
  });
});

describe("observations in every phase", () => {
  // [observation name, observation, phase after per state (absent: unchanged), canary weights set per state]
  const fresh: Observation = { weightsApplied: { version: 99 } };
  const rows: Array<[string, Observation, Record<string, string>, Record<string, number[]>]> = [
    ["a plain tick", {}, {}, {}],
    [
      "analysis fail",
      { analysis: fail() },
      { Progressing: "RollingBack", "Paused(approval)": "RollingBack", "Paused(manual)": "RollingBack" },
      { Progressing: [0], "Paused(approval)": [0], "Paused(manual)": [0] },
    ],
    ["mesh ready", { meshReady: true }, { Initializing: "Progressing" }, { Initializing: [1000] }],
    ["mesh missing", { meshReady: { missing: ["DestinationRule subset v2"] } }, {}, {}],
    ["weights confirmed", fresh, { Promoting: "Succeeded", RollingBack: "RolledBack" }, {}],
    [
      "a new revision",
      { revision: "r2" },
      Object.fromEntries(Object.keys(STATES).map((s) => [s, "Initializing"])),
      { Progressing: [0], "Paused(approval)": [0], "Paused(manual)": [0], Promoting: [0], Succeeded: [0] },
    ],
  ];
  const cases = rows.flatMap(([what, obs, phases, weights]) =>
    Object.keys(STATES).map(
      (name) => [name, what, obs, phases[name] ?? STATES[name]!.phase, weights[name] ?? []] as const,
    ),
  );

  it.each(cases)("%s + %s → %s", (name, what, obs, phase, weights) => {
    const before = STATES[name]!;
    const { state, actions } = advance(before, obs, T0 + 1000);
    expect(state.phase).toBe(phase);
    expect(canaryWeightsSet(actions)).toEqual(weights);
    const entered = of(actions, "webhook").map((w) => w.event);
    // A new revision is a transition even from Initializing (it restarts the rollout).
    expect(entered).toEqual(phase === before.phase && what !== "a new revision" ? [] : [phase]);
  });

  it("is total: every phase × every combination of observation fields, no throw, weights within range", () => {
    const options: Observation[] = [
      {},
      { analysis: pass() },
      { analysis: fail() },
      { analysis: inconclusive() },
      { meshReady: true },
      { meshReady: { missing: ["x"] } },
      { weightsApplied: { version: 0 } },
      { weightsApplied: { version: 99 } },
      { revision: "r2" },
      { generation: 7 },
      ...(["promote", "approve", "pause", "resume", "abort"] as const).map((command) => ({ command })),
    ];
    let count = 0;
    for (const before of Object.values(STATES)) {
      for (const a of options) {
        for (const b of options) {
          for (const dt of [0, 31_000, 200_000]) {
            const { state, actions } = advance(before, { ...a, ...b }, T0 + dt);
            expect(PHASES).toContain(state.phase);
            expect(state.routingVersion).toBeGreaterThanOrEqual(before.routingVersion);
            for (const w of of(actions, "setWeights")) {
              expect(w.variants[0]!.weightBp + w.variants[1]!.weightBp).toBe(10000);
              expect(w.version).toBeGreaterThan(before.routingVersion);
            }
            count++;
          }
        }
      }
    }
    expect(count).toBe(9 * 15 * 15 * 3);
  });
});

describe("a weight step", () => {
  const started = advance(STATES.Initializing!, { meshReady: true }, T0).state;

  it("waits for the mesh to confirm its weights before its clock starts", () => {
    expect(started).toMatchObject({ phase: "Progressing", step: 0, weightBp: 1000, routingVersion: 1 });
    expect(started.stepStartedAt).toBeUndefined();
    const stale = advance(started, { weightsApplied: { version: 0 }, analysis: pass() }, T0 + 60_000);
    expect(stale.state.stepStartedAt).toBeUndefined();
    expect(stale.state.message).toContain("waiting for routing version 1");
    const confirmed = advance(started, { weightsApplied: { version: 1 } }, T0 + 5000);
    expect(confirmed.state.stepStartedAt).toBe(T0 + 5000);
    expect(of(confirmed.actions, "resetAnalysis")).toEqual([
      { kind: "resetAnalysis", step: 0, reason: "step 1/2 at 10% in force" },
    ]);
  });

  const running = STATES.Progressing!;
  it.each([
    ["pass before the hold time", pass(), 29_000, "Progressing", 0, undefined],
    ["pass after the hold time", pass(), 30_000, "Progressing", 1, undefined],
    ["inconclusive after the hold time", inconclusive(), 60_000, "Progressing", 0, undefined],
    ["no analysis after the hold time", undefined, 60_000, "Progressing", 0, undefined],
    ["inconclusive after maxStepDuration", inconclusive(), 120_000, "Paused", 0, "approval"],
    ["fail before the hold time", fail(), 1000, "RollingBack", 0, undefined],
  ] as const)("%s → %s", (_what, analysis, dt, phase, step, pausedBy) => {
    const { state } = advance(running, analysis ? { analysis } : {}, T0 + dt);
    expect([state.phase, state.step, state.pausedBy]).toEqual([phase, step, pausedBy]);
  });

  it("records the decision only when it changes", () => {
    const first = advance(running, { analysis: inconclusive() }, T0 + 40_000);
    expect(first.state.lastDecision).toMatchObject({ action: "hold", at: "2026-11-01T12:00:40.000Z" });
    const again = advance(first.state, { analysis: inconclusive() }, T0 + 45_000);
    expect(again.state.lastDecision).toEqual(first.state.lastDecision);
    expect(of(again.actions, "writeStatus")).toEqual([]);
  });

  it("after the last step promotes, then succeeds once the mesh confirms", () => {
    const last = { ...running, step: 1, weightBp: 5000, routingVersion: 2 };
    const promoting = advance(last, { analysis: pass() }, T0 + 30_000);
    expect(promoting.state.phase).toBe("Promoting");
    expect(of(promoting.actions, "setWeights")).toEqual([
      {
        kind: "setWeights",
        version: 3,
        variants: [
          { name: "stable", weightBp: 0 },
          { name: "canary", weightBp: 10000 },
        ],
        reason: expect.stringContaining("promote"),
      },
    ]);
    expect(advance(promoting.state, { weightsApplied: { version: 2 } }, T0 + 31_000).state.phase).toBe(
      "Promoting",
    );
    expect(advance(promoting.state, { weightsApplied: { version: 3 } }, T0 + 31_000).state.phase).toBe(
      "Succeeded",
    );
  });

  it("an approval step pauses after its hold time, whatever the analysis short of fail", () => {
    const approvalPlan = planRollout(
      spec({ canary: { steps: [{ weight: 10, approval: true }, { weight: 20 }] } }),
    );
    const s = { ...running, plan: approvalPlan };
    expect(advance(s, { analysis: inconclusive() }, T0 + 10_000).state.phase).toBe("Progressing");
    const paused = advance(s, { analysis: inconclusive() }, T0 + 30_000).state;
    expect([paused.phase, paused.pausedBy]).toEqual(["Paused", "approval"]);
    const approved = advance(paused, { command: "approve" }, T0 + 31_000).state;
    expect([approved.phase, approved.step, approved.weightBp]).toEqual(["Progressing", 1, 2000]);
  });
});

describe("status bookkeeping", () => {
  it("writes status only when it changed, and moves lastTransitionTime only when a condition's status does", () => {
    const a = advance(STATES.Initializing!, { meshReady: { missing: ["VirtualService reviews"] } }, T0);
    expect(of(a.actions, "writeStatus")).toHaveLength(1);
    const b = advance(a.state, { meshReady: { missing: ["VirtualService reviews"] } }, T0 + 5000);
    expect(b.actions).toEqual([]);
    const vs = (s: RolloutState) => s.conditions.find((c) => c.type === "VirtualServiceReady")!;
    expect(vs(b.state)).toMatchObject({ status: "False", lastTransitionTime: "2026-11-01T12:00:00.000Z" });
    const c = advance(b.state, { meshReady: true }, T0 + 10_000);
    expect(vs(c.state)).toMatchObject({ status: "True", lastTransitionTime: "2026-11-01T12:00:10.000Z" });
    expect(c.state.conditions.map((x) => [x.type, x.status])).toEqual([
      ["Ready", "True"],
      ["VirtualServiceReady", "True"],
    ]);
  });

  it("keeps analysis state from the analysis and drops it when a step's clock starts", () => {
    const withState = advance(
      STATES.Progressing!,
      { analysis: { ...inconclusive(), state: { e: 2 } } },
      T0 + 1000,
    );
    expect(withState.state.analysisState).toEqual({ e: 2 });
    const next = advance(withState.state, { analysis: pass() }, T0 + 30_000).state;
    const confirmed = advance(next, { weightsApplied: { version: next.routingVersion } }, T0 + 31_000).state;
    expect(confirmed.analysisState).toBeUndefined();
  });

  it("records the observed generation", () => {
    expect(advance(STATES.Progressing!, { generation: 5 }, T0).state.observedGeneration).toBe(5);
  });

  it(`keeps the last ${HISTORY_LIMIT} transitions`, () => {
    let state = STATES.Progressing!;
    for (let i = 0; i < 30; i++) {
      state = advance(state, { command: i % 2 === 0 ? "pause" : "resume" }, T0 + i).state;
    }
    expect(state.history).toHaveLength(HISTORY_LIMIT);
    expect(state.history.at(-1)).toMatchObject({ at: new Date(T0 + 29).toISOString(), to: "Progressing" });
  });
});
