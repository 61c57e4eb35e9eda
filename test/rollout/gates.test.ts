/** Gating webhooks in the pure state machine: the rules of gates.ts, then advance() with gate answers as observations. */
import { describe, expect, it } from "vitest";
import { advance } from "../../controller/rollout/advance.js";
import { commandRefusal } from "../../controller/rollout/commands.js";
import {
  type GatePlan,
  type GateResult,
  type GateState,
  gatesDue,
  gateVerdict,
  recordResults,
} from "../../controller/rollout/gates.js";
import { planRollout } from "../../controller/rollout/plan.js";
import { stateFromStatus, statusFromState } from "../../controller/rollout/status.js";
import type { Action, Observation, RolloutState } from "../../controller/rollout/types.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import { fail, pass, spec, T0 } from "./sim.js";

const PRE: GatePlan = { name: "smoke", type: "pre-rollout", intervalMs: 10_000, failureLimit: 3 };
const CONFIRM: GatePlan = { name: "freeze", type: "confirm-promotion", intervalMs: 10_000, failureLimit: 3 };
const POST: GatePlan = { name: "report", type: "post-rollout", intervalMs: 10_000, failureLimit: 3 };

const state = (g: GatePlan, extra: Partial<GateState> = {}): GateState => ({
  name: g.name,
  type: g.type,
  result: "Pending",
  failures: 0,
  message: "not called yet",
  since: T0,
  ...extra,
});
const answer = (g: GatePlan, passed: boolean, extra: Partial<GateResult> = {}): GateResult => ({
  name: g.name,
  type: g.type,
  passed,
  message: passed ? "HTTP 200" : "HTTP 503: not ready",
  startedAt: T0 + 1000,
  at: T0 + 1200,
  ...extra,
});

describe("gateVerdict", () => {
  const cases: Array<[string, GatePlan[], GateState[] | undefined, GatePlan["type"], string]> = [
    ["no gates of the type: pass", [CONFIRM], undefined, "pre-rollout", "pass"],
    [
      "never answered: wait",
      [PRE],
      undefined,
      "pre-rollout",
      "wait pre-rollout gates: smoke: not called yet",
    ],
    ["passed: pass", [PRE], [state(PRE, { result: "Passed" })], "pre-rollout", "pass"],
    [
      "failed twice of three: wait, counting",
      [PRE],
      [state(PRE, { result: "Failed", failures: 2, message: "HTTP 500" })],
      "pre-rollout",
      "wait pre-rollout gates: smoke: HTTP 500 (failure 2 of 3)",
    ],
    [
      "failed three times: fail",
      [PRE],
      [state(PRE, { result: "Failed", failures: 3, message: "timed out after 10s" })],
      "pre-rollout",
      "fail pre-rollout gate smoke failed 3 times (limit 3): timed out after 10s",
    ],
    [
      "a pass after failures below the limit: pass",
      [PRE],
      [state(PRE, { result: "Passed", failures: 2, message: "HTTP 200" })],
      "pre-rollout",
      "pass",
    ],
    [
      "confirm-promotion never fails, it holds",
      [CONFIRM],
      [state(CONFIRM, { result: "Failed", failures: 50, message: "HTTP 423: change freeze" })],
      "confirm-promotion",
      "wait confirm-promotion gates: freeze: HTTP 423: change freeze",
    ],
    [
      "one of two passed: wait for the other",
      [CONFIRM, { ...CONFIRM, name: "tickets" }],
      [state(CONFIRM, { result: "Passed" })],
      "confirm-promotion",
      "wait confirm-promotion gates: tickets: not called yet",
    ],
  ];
  it.each(cases)("%s", (_, plan, states, type, expected) => {
    const v = gateVerdict(states, plan, type);
    expect(v.kind === "pass" ? "pass" : `${v.kind} ${v.why}`).toBe(expected);
  });
});

describe("recordResults", () => {
  const cases: Array<
    [string, GateState[] | undefined, GatePlan["type"], GateResult, Partial<GateState> | "ignored"]
  > = [
    [
      "a pass",
      [state(PRE)],
      "pre-rollout",
      answer(PRE, true),
      { result: "Passed", failures: 0, message: "HTTP 200" },
    ],
    [
      "a failure counts",
      [state(PRE, { failures: 1 })],
      "pre-rollout",
      answer(PRE, false),
      { result: "Failed", failures: 2 },
    ],
    ["the type is not open", [state(PRE)], "confirm-promotion", answer(PRE, true), "ignored"],
    [
      "started before the gate opened",
      [state(PRE)],
      "pre-rollout",
      answer(PRE, true, { startedAt: T0 - 1 }),
      "ignored",
    ],
    [
      "a gate not in the plan",
      [state(PRE)],
      "pre-rollout",
      answer({ ...PRE, name: "other" }, true),
      "ignored",
    ],
    [
      "a type mismatch for a known name",
      [state(PRE)],
      "pre-rollout",
      { ...answer(PRE, true), type: "post-rollout" },
      "ignored",
    ],
    ["post-rollout not opened", undefined, "post-rollout", answer(POST, true), "ignored"],
    [
      "pre-rollout added mid-phase: recorded",
      undefined,
      "pre-rollout",
      answer(PRE, false),
      { result: "Failed", failures: 1, since: T0 + 1000 },
    ],
  ];
  it.each(cases)("%s", (_, states, open, result, expected) => {
    const { gates } = recordResults(states, [PRE, POST], open, [result]);
    if (expected === "ignored") expect(gates).toEqual(states);
    else expect(gates?.find((g) => g.name === result.name)).toMatchObject(expected);
  });

  it("reports a change of result once, not a repeated one", () => {
    const first = recordResults([state(PRE)], [PRE], "pre-rollout", [answer(PRE, false)]);
    expect(first.changed.map((g) => g.result)).toEqual(["Failed"]);
    const again = recordResults(first.gates, [PRE], "pre-rollout", [answer(PRE, false)]);
    expect(again.changed).toEqual([]);
    expect(again.gates?.[0]?.failures).toBe(2);
  });
});

describe("gatesDue", () => {
  const plan = { gates: [PRE, CONFIRM, POST] };
  const cases: Array<[string, Partial<RolloutState>, GateState[] | undefined, number, string[]]> = [
    ["Initializing, never called", { phase: "Initializing" }, undefined, T0, ["smoke"]],
    ["Initializing, answered 5 s ago", { phase: "Initializing" }, [state(PRE, { at: T0 })], T0 + 5000, []],
    [
      "Initializing, answered an interval ago",
      { phase: "Initializing" },
      [state(PRE, { at: T0 })],
      T0 + 10_000,
      ["smoke"],
    ],
    ["Progressing: none", { phase: "Progressing" }, undefined, T0, []],
    ["Paused for approval: none", { phase: "Paused", pausedBy: "approval" }, undefined, T0, []],
    ["Paused for the gates", { phase: "Paused", pausedBy: "gate" }, [state(CONFIRM)], T0, ["freeze"]],
    ["Succeeded, post-rollout opened", { phase: "Succeeded" }, [state(POST)], T0, ["report"]],
    [
      "Succeeded, post-rollout answered: once only",
      { phase: "RolledBack" },
      [state(POST, { result: "Failed", at: T0 })],
      T0 + 60_000,
      [],
    ],
    ["Aborted, post-rollout never opened", { phase: "Aborted" }, undefined, T0, []],
  ];
  it.each(cases)("%s", (_, s, gates, now, expected) => {
    const full = { phase: "Initializing" as const, plan, ...s, ...(gates ? { gates } : {}) };
    expect(gatesDue(full, now).map((g) => g.name)).toEqual(expected);
  });

  it("none for a strategy that cannot run", () => {
    expect(gatesDue({ phase: "Initializing", plan: { ...plan, unsupported: "no" } }, T0)).toEqual([]);
  });
});

// ---- advance() with gates ----

const gated = (gates: CanarySpec["gates"]) =>
  planRollout({
    ...spec({ canary: { steps: [{ weight: 10 }, { weight: 50 }] } }, { minStepDuration: "30s" }),
    gates,
  });
const gate = (name: string, type: GatePlan["type"], extra: object = {}) => ({
  name,
  type,
  url: "http://gate.example/",
  ...extra,
});
const plan = gated([
  gate("smoke", "pre-rollout", { failureLimit: 2 }),
  gate("freeze", "confirm-promotion"),
  gate("report", "post-rollout"),
]);
const fresh = stateFromStatus(plan, { revision: "r1" });
/** At the last step, its clock running long enough for the analysis to decide. */
const lastStep: RolloutState = {
  ...fresh,
  phase: "Progressing",
  step: 1,
  weightBp: 5000,
  routingVersion: 2,
  stepStartedAt: T0 - 60_000,
};
const obs = (extra: Observation = {}): Observation => ({
  revision: "r1",
  meshReady: true,
  weightsApplied: { version: 99 },
  ...extra,
});
const res = (
  name: string,
  type: GatePlan["type"],
  passed: boolean,
  startedAt = T0,
  message?: string,
): GateResult => ({
  name,
  type,
  passed,
  message: message ?? (passed ? "HTTP 200" : "HTTP 503: not ready"),
  startedAt,
  at: startedAt + 100,
});
const events = (actions: Action[]) =>
  actions.flatMap((a) => (a.kind === "event" ? [`${a.type} ${a.reason}`] : []));

describe("advance with pre-rollout gates", () => {
  it("holds the first step until the gate passes, then starts it", () => {
    const waiting = advance(fresh, obs(), T0);
    expect(waiting.state.phase).toBe("Initializing");
    expect(waiting.state.message).toBe("waiting for pre-rollout gates: smoke: not called yet");
    expect(waiting.actions.some((a) => a.kind === "setWeights")).toBe(false);
    const failedOnce = advance(
      waiting.state,
      obs({ gates: [res("smoke", "pre-rollout", false)] }),
      T0 + 1000,
    );
    expect(failedOnce.state.phase).toBe("Initializing");
    expect(failedOnce.state.message).toBe(
      "waiting for pre-rollout gates: smoke: HTTP 503: not ready (failure 1 of 2)",
    );
    expect(events(failedOnce.actions)).toContain("Warning GateFailed");
    const passed = advance(
      failedOnce.state,
      obs({ gates: [res("smoke", "pre-rollout", true, T0 + 2000)] }),
      T0 + 3000,
    );
    expect(passed.state.phase).toBe("Progressing");
    expect(passed.state.weightBp).toBe(1000);
    expect(events(passed.actions)).toContain("Normal GatePassed");
    // The gate closed when the step started: a late answer changes nothing.
    const late = advance(
      passed.state,
      obs({ gates: [res("smoke", "pre-rollout", false, T0 + 2500)] }),
      T0 + 4000,
    );
    expect(late.state.gates).toEqual(passed.state.gates);
  });

  it("rolls back at the failure limit without ever routing canary traffic", () => {
    let s = fresh;
    const all: Action[] = [];
    for (const [i, at] of [T0, T0 + 10_000].entries()) {
      const r = advance(
        s,
        obs({ gates: [res("smoke", "pre-rollout", false, at, `HTTP 500: boom ${i}`)] }),
        at + 500,
      );
      all.push(...r.actions);
      s = r.state;
    }
    expect(s.phase).toBe("RolledBack");
    expect(s.weightBp).toBe(0);
    expect(all.filter((a) => a.kind === "setWeights")).toEqual([]);
    expect(s.lastDecision).toMatchObject({
      action: "rollback",
      reason: "pre-rollout gate smoke failed 2 times (limit 2): HTTP 500: boom 1",
    });
    // The rollout ended: its post-rollout gate opened; retry reopens the pre-rollout gate from zero.
    expect(s.gates?.find((g) => g.type === "post-rollout")).toMatchObject({ result: "Pending" });
    const retried = advance(s, obs({ command: "retry" }), T0 + 60_000);
    expect(retried.state.phase).toBe("Initializing");
    expect(retried.state.gates?.find((g) => g.name === "smoke")).toMatchObject({
      result: "Pending",
      failures: 0,
    });
  });

  it("an abort while waiting ends it at once", () => {
    const r = advance(fresh, obs({ command: "abort" }), T0);
    expect(r.state.phase).toBe("Aborted");
  });
});

describe("advance with confirm-promotion gates", () => {
  const paused = advance(lastStep, obs({ analysis: pass() }), T0).state;

  it("pauses for the gates after the last step instead of promoting", () => {
    expect(paused).toMatchObject({ phase: "Paused", pausedBy: "gate", weightBp: 5000 });
    expect(paused.gates?.find((g) => g.name === "freeze")).toMatchObject({ result: "Pending", since: T0 });
  });

  it("holds while the gate fails, refusing promote commands, then promotes when it passes", () => {
    const held = advance(
      paused,
      obs({ gates: [res("freeze", "confirm-promotion", false, T0, "HTTP 423: change freeze")] }),
      T0 + 1000,
    );
    expect(held.state).toMatchObject({ phase: "Paused", pausedBy: "gate" });
    expect(held.state.message).toBe(
      "promotion awaits confirm-promotion gates: freeze: HTTP 423: change freeze",
    );
    for (const command of ["promote", "promote-full", "approve", "resume"] as const) {
      expect(commandRefusal(command, held.state), command).toBeDefined();
      const r = advance(held.state, obs({ command }), T0 + 1500);
      expect(r.state.phase, command).toBe("Paused");
    }
    const ok = advance(
      held.state,
      obs({ gates: [res("freeze", "confirm-promotion", true, T0 + 2000)] }),
      T0 + 3000,
    );
    expect(ok.state).toMatchObject({ phase: "Promoting", weightBp: 10000 });
    expect(ok.state.history.at(-1)?.reason).toBe("confirm-promotion gates passed");
  });

  it("ignores a stale pass from a call started before the pause", () => {
    const r = advance(paused, obs({ gates: [res("freeze", "confirm-promotion", true, T0 - 1)] }), T0 + 1000);
    expect(r.state.phase).toBe("Paused");
  });

  it("cannot be passed by an answer for another gate", () => {
    const forged = [
      res("freezer", "confirm-promotion", true),
      res("smoke", "pre-rollout", true),
      res("report", "post-rollout", true),
    ];
    const r = advance(paused, obs({ gates: forged }), T0 + 1000);
    expect(r.state.phase).toBe("Paused");
    expect(r.state.gates).toEqual(paused.gates);
  });

  it("still rolls back on an analysis fail while held", () => {
    const r = advance(paused, obs({ analysis: fail() }), T0 + 1000);
    expect(r.state.phase).toBe("RollingBack");
  });

  it("promote-full from step 1 also waits for them", () => {
    const atStep1 = { ...lastStep, step: 0, weightBp: 1000 };
    const r = advance(atStep1, obs({ command: "promote-full" }), T0);
    expect(r.state).toMatchObject({ phase: "Paused", pausedBy: "gate", weightBp: 1000 });
  });
});

describe("advance with post-rollout gates", () => {
  it("opens them when the rollout ends and records the answer without changing the phase", () => {
    const promoting = { ...lastStep, phase: "Promoting" as const, weightBp: 10000, routingVersion: 3 };
    const done = advance(promoting, obs(), T0).state;
    expect(done.phase).toBe("Succeeded");
    expect(gatesDue(done, T0).map((g) => g.name)).toEqual(["report"]);
    const answered = advance(
      done,
      obs({ gates: [res("report", "post-rollout", false, T0, "timed out after 10s")] }),
      T0 + 10_500,
    );
    expect(answered.state.phase).toBe("Succeeded");
    expect(answered.state.gates?.find((g) => g.name === "report")).toMatchObject({
      result: "Failed",
      message: "timed out after 10s",
    });
    expect(events(answered.actions)).toEqual(["Warning GateFailed"]);
    expect(gatesDue(answered.state, T0 + 60_000)).toEqual([]);
  });
});

describe("gate state in status", () => {
  it("restores exactly from status", () => {
    const s = advance(fresh, obs({ gates: [res("smoke", "pre-rollout", false)] }), T0 + 1000).state;
    expect(s.gates?.length).toBe(1);
    const restored = stateFromStatus(plan, JSON.parse(JSON.stringify(statusFromState(s))));
    expect(restored).toEqual(s);
  });

  it("a Canary without gates has no gate state", () => {
    const plain = planRollout(spec({ canary: { steps: [{ weight: 10 }] } }));
    expect(plain.gates).toBeUndefined();
    const r = advance(stateFromStatus(plain, { revision: "r1" }), obs(), T0);
    expect(r.state.phase).toBe("Progressing");
    expect(statusFromState(r.state).gates).toBeUndefined();
  });
});
