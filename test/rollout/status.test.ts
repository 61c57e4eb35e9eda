import { describe, expect, it } from "vitest";
import { planRollout } from "../../controller/rollout/plan.js";
import { desiredRouting, stateFromStatus, statusFromState } from "../../controller/rollout/status.js";
import type { RolloutState } from "../../controller/rollout/types.js";
import { validateCanary } from "../../controller/spec/validate.js";
import { spec } from "./sim.js";

const plan = planRollout(spec({ canary: { steps: [{ weight: 5 }, { weight: 50 }] } }));

describe("status ⇄ state", () => {
  it("an empty status is a rollout not yet started", () => {
    expect(stateFromStatus(plan, undefined)).toEqual({
      plan,
      phase: "Initializing",
      step: 0,
      weightBp: 0,
      routingVersion: 0,
      message: "",
      conditions: [],
      history: [],
    });
  });

  it("round-trips a full state, and the status passes the schema", () => {
    const state: RolloutState = {
      plan,
      phase: "Paused",
      step: 1,
      stepStartedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      weightBp: 5000,
      routingVersion: 7,
      pausedBy: "manual",
      revision: "abc123",
      observedGeneration: 4,
      message: "paused by operator",
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "Paused",
          message: "m",
          lastTransitionTime: "2026-01-02T03:04:05.678Z",
        },
      ],
      lastDecision: { at: "2026-01-02T03:04:05.678Z", action: "hold", reason: "r", checks: [] },
      history: [
        {
          at: "2026-01-02T03:04:05.678Z",
          from: "Progressing",
          to: "Paused",
          step: 1,
          weightBp: 5000,
          reason: "x",
        },
      ],
      analysisState: { eValue: 3.5, counts: [1, 2] },
      marker: "0123456789abcdef0123456789abcdef",
    };
    const status = statusFromState(state);
    expect(status.stepStartedAt).toBe("2026-01-02T03:04:05.678Z");
    expect(status.canaryWeight).toBe(50);
    expect(stateFromStatus(plan, JSON.parse(JSON.stringify(status)))).toEqual(state);
    const canary = {
      apiVersion: "meshcanary.io/v1alpha1",
      kind: "Canary",
      metadata: { name: "r" },
      spec: spec({ canary: { steps: [{ weight: 5 }] } }),
      status,
    };
    expect(validateCanary(canary)).toMatchObject({ ok: true });
  });

  it("desiredRouting gives stable the rest", () => {
    const state = { ...stateFromStatus(plan, undefined), weightBp: 1234, routingVersion: 3 };
    expect(desiredRouting(state)).toEqual({
      version: 3,
      variants: [
        { name: "stable", weightBp: 8766 },
        { name: "canary", weightBp: 1234 },
      ],
      mirrorBp: 0,
    });
  });
});
