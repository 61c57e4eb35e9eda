import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { figure, formatStatus, formatSummary, percent } from "../../controller/cli/format-status.js";
import { type StatusView, statusView } from "../../controller/cli/status-view.js";
import type { CanaryObject } from "../../controller/kube/canaries.js";
import type { CheckResult } from "../../controller/spec/schema.js";

const sample = parse(readFileSync("istio/samples/canary.yaml", "utf8")) as CanaryObject;

function withStatus(status: unknown, annotations?: Record<string, string>): CanaryObject {
  return { ...sample, metadata: { ...sample.metadata, ...(annotations ? { annotations } : {}) }, status };
}

describe("percent and figure", () => {
  it.each([
    [0, "0%"],
    [1, "0.01%"],
    [150, "1.5%"],
    [2500, "25%"],
    [10000, "100%"],
  ])("percent(%i) = %s", (bp, text) => expect(percent(bp)).toBe(text));

  it.each([
    [0, "0"],
    [0.25, "0.25"],
    [123.456, "123.5"],
    [1e9, "1.00e+9"],
    [0.00001, "1.00e-5"],
  ])("figure(%d) = %s", (value, text) => expect(figure(value)).toBe(text));
});

describe("statusView", () => {
  it.each<[string, CanaryObject, Partial<StatusView>]>([
    [
      "not started: step 0 of the plan, all traffic on stable",
      withStatus(undefined),
      { phase: "Initializing", step: 0, steps: 4, strategy: "canary", message: "" },
    ],
    [
      "paused for approval at the third step",
      withStatus({ phase: "Paused", pausedBy: "approval", step: 2, weightBp: 2500, message: "waiting" }),
      { phase: "Paused", pausedBy: "approval", step: 3, steps: 4, message: "waiting" },
    ],
    [
      "pausedBy is shown only while paused",
      withStatus({ phase: "Progressing", pausedBy: "manual", step: 1, weightBp: 500 }),
      { phase: "Progressing", step: 2 },
    ],
    [
      "a command the controller has not handled yet",
      withStatus({ phase: "Progressing", lastCommand: "pause/1" }, { "meshcanary.io/command": "abort/2" }),
      { pendingCommand: "abort/2" },
    ],
  ])("%s", (_, canary, expected) => {
    const view = statusView(canary);
    expect(view).toMatchObject(expected);
    if (expected.pausedBy === undefined) expect(view.pausedBy).toBeUndefined();
    if (expected.pendingCommand === undefined) expect(view.pendingCommand).toBeUndefined();
  });

  it("a handled command is not pending", () => {
    const canary = withStatus(
      { phase: "Progressing", lastCommand: "abort/2" },
      { "meshcanary.io/command": "abort/2" },
    );
    expect(statusView(canary).pendingCommand).toBeUndefined();
  });

  it("weights split basis points between the subsets", () => {
    expect(statusView(withStatus({ phase: "Progressing", weightBp: 100 })).weights).toEqual([
      { variant: "stable", subset: "v1", weightBp: 9900 },
      { variant: "canary", subset: "v2", weightBp: 100 },
    ]);
  });

  it("an invalid spec shows its errors and no step count", () => {
    const broken = { ...sample, spec: { ...(sample.spec as object), canary: { subset: "v1" } } };
    const view = statusView(broken);
    expect(view.steps).toBeUndefined();
    expect(view.specErrors).toEqual([
      'spec.canary.subset: must differ from stable.subset, got "v1" for both',
    ]);
    expect(formatStatus(view)).toContain("Step:      0/?");
  });

  it("keeps the newest history entries", () => {
    const history = Array.from({ length: 8 }, (_, i) => ({
      at: `2026-11-02T10:0${i}:00Z`,
      from: "Progressing",
      to: "Progressing",
      step: i,
      weightBp: 100 * i,
      reason: `r${i}`,
    }));
    expect(statusView(withStatus({ phase: "Progressing", history })).history.map((h) => h.reason)).toEqual([
      "r3",
      "r4",
      "r5",
      "r6",
      "r7",
    ]);
  });
});

describe("formatStatus", () => {
  const base: StatusView = {
    name: "reviews",
    namespace: "default",
    phase: "Progressing",
    step: 1,
    steps: 2,
    weights: [
      { variant: "stable", weightBp: 9000 },
      { variant: "canary", weightBp: 1000 },
    ],
    message: "",
    conditions: [],
    history: [],
  };

  it.each<[string, StatusView, string[]]>([
    [
      "minimal: header and weights only",
      base,
      [
        "Name:      reviews",
        "Namespace: default",
        "Phase:     Progressing",
        "Step:      1/2",
        "Weights:",
        "├─ stable  90%",
        "└─ canary  10%",
      ],
    ],
    [
      "decision checks: value against its limit, evidence against the rollback level; missing figures leave no gap",
      {
        ...base,
        rollbackAt: 100,
        lastDecision: {
          at: "T",
          action: "rollback",
          reason: "failure-rate failed",
          checks: [
            // Results carry extra figures (eValue, threshold) beyond the schema's named fields.
            {
              name: "failure-rate",
              verdict: "fail",
              value: 0.041,
              eValue: 212,
              threshold: 0.02,
              message: "4.1% vs 0.9%",
            } as CheckResult,
            { name: "latency-p99", verdict: "inconclusive" },
          ],
        },
      },
      [
        "Last decision: rollback at T: failure-rate failed",
        "├─ ✖ failure-rate  fail          0.041 (limit 0.02)  evidence 212× (rollback at 100×)  4.1% vs 0.9%",
        "└─ … latency-p99   inconclusive",
      ],
    ],
    [
      "pending command and conditions",
      {
        ...base,
        pendingCommand: "promote/9",
        conditions: [
          {
            type: "Ready",
            status: "False",
            reason: "ForeignEdit",
            message: "route edited",
            lastTransitionTime: "T",
          },
        ],
      },
      ["Conditions:", "└─ Ready  False  ForeignEdit  route edited"],
    ],
    [
      "the step plan with the current step marked and when it came into force; the last command's answer",
      {
        ...base,
        stepStartedAt: "2026-11-02T10:00:00.000Z",
        commandResult: { command: "pause/7", result: "Refused", message: "no", at: "T" },
        plan: [
          { weightBp: 1000, gate: "analysis", holdMs: 30_000, state: "done" },
          { weightBp: 2500, gate: "approval", holdMs: 120_000, state: "current" },
          { weightBp: 5000, gate: "analysis", holdMs: 30_000, state: "pending" },
        ],
      },
      [
        "Command:   pause/7 refused at T: no",
        "Weights:",
        "├─ stable  90%",
        "└─ canary  10%",
        "Steps:",
        "├─ ✔ 1  10%  hold ≥30s, then analysis",
        "├─ ▶ 2  25%  hold ≥2m, then approval   in force since 2026-11-02T10:00:00.000Z",
        "└─   3  50%  hold ≥30s, then analysis",
      ],
    ],
    [
      "a pending command right after the message",
      { ...base, message: "waiting", pendingCommand: "promote/9" },
      ["Message:   waiting", "Pending:   promote/9 (not yet handled by the controller)", "Weights:"],
    ],
  ])("%s", (_, view, expected) => {
    const lines = formatStatus(view);
    const start = lines.indexOf(expected[0] ?? "");
    expect(start).toBeGreaterThanOrEqual(0);
    expect(lines.slice(start, start + expected.length)).toEqual(expected);
  });
});

describe("formatSummary", () => {
  it("says so when there are none", () => {
    expect(formatSummary([])).toEqual(["No canaries found."]);
  });

  it("aligns one row per Canary", () => {
    const a = statusView(
      withStatus({ phase: "Paused", pausedBy: "manual", step: 0, weightBp: 100, message: "held" }),
    );
    const b = { ...statusView(withStatus(undefined)), name: "ratings-long-name" };
    expect(formatSummary([a, b])).toEqual([
      "NAMESPACE  NAME               PHASE           STEP  CANARY  MESSAGE",
      "default    reviews            Paused(manual)  1/4   1%      held",
      "default    ratings-long-name  Initializing    0/4   0%",
    ]);
  });
});
