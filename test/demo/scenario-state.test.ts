import { describe, expect, it } from "vitest";
import { parseFault } from "../../sandbox/demo/demo-command.js";
import { endpointsFor } from "../../sandbox/demo/environment.js";
import { renderScenario, renderSummary, summaryRow } from "../../sandbox/demo/render.js";
import { scenarioPlans } from "../../sandbox/demo/scenario.js";
import {
  failureOf,
  faultDue,
  faultInjected,
  initialState,
  type Observation,
  observe,
  type ScenarioPlan,
} from "../../sandbox/demo/scenario-state.js";

const T0 = Date.parse("2026-11-22T03:00:00.000Z");
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function plan(name: "healthy" | "faulty"): ScenarioPlan {
  const plans = scenarioPlans({
    scenario: name,
    speed: 2,
    fault: { kind: "error-rate", rate: 0.05 },
    weights: [10, 25, 50],
  });
  return plans[0]!;
}

function obs(atMs: number, o: Partial<Observation> = {}): Observation {
  return {
    nowMs: T0 + atMs,
    counters: {},
    canaryToStableAt: [],
    servedByVersion: {},
    ...o,
  };
}

describe("parseFault", () => {
  it.each([
    ["error-rate=0.05", { kind: "error-rate", rate: 0.05 }],
    ["error-rate=5%", { kind: "error-rate", rate: 0.05 }],
    ["latency=+200ms", { kind: "latency", extraMs: 200 }],
    ["latency=150ms", { kind: "latency", extraMs: 150 }],
  ])("accepts %s", (text, fault) => {
    expect(parseFault(text)).toEqual(fault);
  });

  it.each([
    "error-rate=",
    "error-rate=2",
    "error-rate=0",
    "latency=+200",
    "latency=-5ms",
    "cpu=1",
    "error-rate",
  ])("rejects %s naming the flag and value", (text) => {
    const r = parseFault(text);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toContain("--fault");
    expect((r as Error).message).toContain(JSON.stringify(text));
  });
});

describe("scenarioPlans", () => {
  it("runs healthy and faulty on separate services, the fault at the 25% step", () => {
    const plans = scenarioPlans({ scenario: "both", speed: 2, fault: { kind: "latency", extraMs: 200 } });
    expect(plans.map((p) => [p.name, p.service, p.expect])).toEqual([
      ["healthy", "reviews", "Succeeded"],
      ["faulty", "ratings", "RolledBack"],
    ]);
    expect(plans[0]!.steps.map((s) => s.weight)).toEqual([10, 25, 50, 75]);
    expect(plans[0]!.steps[0]!.pauseMs).toBe(2000);
    expect(plans[0]!.fault).toBeUndefined();
    expect(plans[1]!.fault).toEqual({ fault: { kind: "latency", extraMs: 200 }, atStep: 1 });
  });
});

describe("observe", () => {
  it("turns status history and decisions into a timeline, and counters into rates", () => {
    let s = initialState(plan("healthy"), T0);
    s = observe(s, obs(0, { counters: { stable: { requests: 0, failures: 0 } } }));
    s = observe(
      s,
      obs(2000, {
        counters: { stable: { requests: 400, failures: 2 }, canary: { requests: 100, failures: 0 } },
        status: {
          phase: "Progressing",
          step: 1,
          weightBp: 2500,
          stepStartedAt: iso(1500),
          history: [
            {
              at: iso(500),
              from: "Initializing",
              to: "Progressing",
              step: 0,
              weightBp: 1000,
              reason: "start",
            },
            {
              at: iso(1400),
              from: "Progressing",
              to: "Progressing",
              step: 1,
              weightBp: 2500,
              reason: "passed",
            },
          ],
          lastDecision: { at: iso(1400), action: "advance", reason: "analysis passed", checks: [] },
        },
      }),
    );
    expect(s.phase).toBe("Progressing");
    expect(s.maxStep).toBe(1);
    expect(s.rates.stable).toEqual({ rps: 200, failureRate: 0.005, p99Ms: null });
    expect(s.rates.canary).toEqual({ rps: 50, failureRate: 0, p99Ms: null });
    const kinds = s.timeline.map((e) => e.kind);
    // The decision to advance and the transition it made are one event.
    expect(kinds).toEqual(["canary-applied", "transition", "transition", "sample"]);
    expect(s.timeline[2]).toMatchObject({ kind: "transition", step: 1, decision: { action: "advance" } });
    expect(s.walkedSteps).toEqual([0, 1]);
    // The same history and decision seen again add nothing but a sample.
    const again = observe(
      s,
      obs(3000, { counters: s.counters, status: s.timeline && { phase: "Progressing" } }),
    );
    expect(again.timeline.length).toBe(s.timeline.length + 1);
  });

  it("counts canary→stable flips only before the rollback began", () => {
    let s = initialState(plan("faulty"), T0);
    const rollback = {
      phase: "RolledBack",
      step: 1,
      weightBp: 0,
      history: [
        { at: iso(5000), from: "Progressing", to: "RollingBack", step: 1, weightBp: 0, reason: "fail" },
        { at: iso(5200), from: "RollingBack", to: "RolledBack", step: 1, weightBp: 0, reason: "restored" },
      ],
    };
    s = observe(s, obs(6000, { status: rollback, canaryToStableAt: [T0 + 6000, T0 + 5100] }));
    expect(s.rollbackMs).toBe(T0 + 5000);
    expect(s.flipsBeforeRollback).toBe(0);
    expect(s.flipsTotal).toBe(2);
    expect(s.endedMs).toBe(T0 + 6000);
    expect(failureOf(s)).toBeUndefined();

    const early = observe(
      initialState(plan("faulty"), T0),
      obs(6000, { status: rollback, canaryToStableAt: [T0 + 100] }),
    );
    expect(early.flipsBeforeRollback).toBe(1);
    expect(failureOf(early)).toMatch(/1 user\(s\) moved canary→stable before any rollback/);
  });

  it("judges outcomes against the expectation", () => {
    const done = (p: ScenarioPlan, phase: string) =>
      observe(initialState(p, T0), obs(1000, { status: { phase, message: "m" } }));
    expect(failureOf(done(plan("healthy"), "Succeeded"))).toBeUndefined();
    expect(failureOf(done(plan("healthy"), "RolledBack"))).toBe(
      "healthy (default/reviews): expected Succeeded, ended RolledBack: m",
    );
    expect(failureOf(done(plan("faulty"), "Progressing"))).toBe(
      "faulty (default/ratings): did not finish (phase Progressing: m)",
    );
  });

  it("makes the fault due once its step's weights are in force, and only once", () => {
    const p = plan("faulty");
    const at = (step: number, started: boolean) =>
      observe(
        initialState(p, T0),
        obs(1000, {
          status: { phase: "Progressing", step, ...(started ? { stepStartedAt: iso(900) } : {}) },
        }),
      );
    expect(faultDue(at(0, true))).toBe(false);
    expect(faultDue(at(1, false))).toBe(false);
    const due = at(1, true);
    expect(faultDue(due)).toBe(true);
    const injected = faultInjected(due, p.fault!.fault, T0 + 1100);
    expect(faultDue(injected)).toBe(false);
    expect(injected.timeline.at(-1)).toEqual({
      atMs: T0 + 1100,
      kind: "fault",
      fault: { kind: "error-rate", rate: 0.05 },
      step: 1,
    });
  });
});

describe("render", () => {
  it("draws the live block with weights, per-step bars, rates and the decision's checks", () => {
    let s = initialState(plan("faulty"), T0);
    s = observe(
      s,
      obs(0, { counters: { stable: { requests: 0, failures: 0 }, canary: { requests: 0, failures: 0 } } }),
    );
    s = observe(
      s,
      obs(1000, {
        counters: { stable: { requests: 750, failures: 1 }, canary: { requests: 250, failures: 20 } },
        p99Ms: { stable: 14.25, canary: null },
        status: {
          phase: "Progressing",
          step: 1,
          weightBp: 2500,
          stepStartedAt: iso(0),
          message: "step 2/3 at 25%",
          lastDecision: {
            at: iso(900),
            action: "hold",
            reason: "inconclusive",
            checks: [
              { name: "failure-rate", verdict: "inconclusive", value: 0.011, eValue: 3.2, threshold: 0.02 },
            ],
          },
        },
      }),
    );
    expect(renderScenario(s, T0 + 1000)).toEqual([
      "FAULTY  default/ratings  Progressing  step 2/3  weights stable 75% / canary 25%  (+1.0s)",
      "    steps    10% ██████████  ▶25% █████·····   50% ··········",
      "    stable    750.0 rps  failures   0.13%  p99 14.3 ms",
      "    canary    250.0 rps  failures   8.00%  p99 –",
      "    fault   error rate 5.0% in the canary, at step 2 (25%)",
      "    last    hold: … failure-rate 0.011 (limit 0.02) evidence 3.2×",
      "    status  step 2/3 at 25%",
    ]);
  });

  it("summarises each scenario in a table", () => {
    let s = initialState(plan("healthy"), T0);
    for (const step of [0, 1, 2])
      s = observe(
        s,
        obs(step * 20_000, { status: { phase: "Progressing", step, stepStartedAt: iso(step * 20_000) } }),
      );
    s = observe(
      s,
      obs(61_000, {
        counters: { stable: { requests: 9000, failures: 18 }, canary: { requests: 3000, failures: 6 } },
        status: { phase: "Succeeded", step: 2, weightBp: 10000 },
      }),
    );
    const row = summaryRow(s);
    expect(row).toEqual({
      scenario: "healthy",
      outcome: "Succeeded",
      expected: "Succeeded",
      durationMs: 61_000,
      stepsWalked: "3/3",
      requests: { stable: 9000, canary: 3000 },
      failureRate: { stable: 0.002, canary: 0.002 },
      flipsBeforeRollback: 0,
      flipsTotal: 0,
    });
    const lines = renderSummary([row]);
    expect(lines[0]).toMatch(/^scenario\s+outcome\s+expected\s+duration/);
    expect(lines[1]).toBe(
      "healthy   Succeeded  Succeeded  61.0s     3/3    9000/3000               0.20%/0.20%             0 (0)",
    );
  });
});

describe("endpointsFor", () => {
  it("maps each DestinationRule subset to the app of its version label, by short and full host", () => {
    const map = endpointsFor(
      [
        {
          namespace: "default",
          name: "reviews",
          host: "reviews.default.svc.cluster.local",
          subsets: [
            { name: "v1", labels: { version: "v1" } },
            { name: "v2", labels: { version: "v2" } },
            { name: "v3", labels: { version: "v3" } },
          ],
        },
      ],
      (service, version) =>
        service === "reviews" && version !== "v3" ? `127.0.0.1:${version === "v1" ? 1 : 2}` : undefined,
    );
    expect([...map]).toEqual([
      ["reviews.default.svc.cluster.local|v1", "127.0.0.1:1"],
      ["reviews|v1", "127.0.0.1:1"],
      ["reviews.default.svc.cluster.local|v2", "127.0.0.1:2"],
      ["reviews|v2", "127.0.0.1:2"],
    ]);
  });
});
