/** Table-driven tests of the controller's pure pieces: merge patches, commands, check mapping, mesh intent, Directive. */
import { describe, expect, it } from "vitest";
import { toAnalysisChecks } from "../../controller/app/analysis-checks.js";
import { pendingCommand } from "../../controller/app/command.js";
import { deletionIntent, finalizersWanted, REVERT_FINALIZER } from "../../controller/app/deletion.js";
import {
  buildDirective,
  capSources,
  nextDirectiveVersion,
  type RouteSource,
  routeTable,
} from "../../controller/app/directive.js";
import { meshIntentFor } from "../../controller/app/mesh-intent.js";
import { revisionOf } from "../../controller/app/revision.js";
import { statusWriteDue } from "../../controller/app/status-cadence.js";
import { mergePatch } from "../../controller/app/status-patch.js";
import { planRollout } from "../../controller/rollout/plan.js";
import { stateFromStatus } from "../../controller/rollout/status.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import { healthySpec } from "./harness.js";

const spec = withDefaults(healthySpec([10, 50]) as never);

describe("mergePatch", () => {
  it.each([
    [{ a: 1, b: 2 }, { a: 1 }, { b: null }],
    [{ a: { x: 1, y: 2 } }, { a: { x: 1 } }, { a: { y: null } }],
    [{ a: [1, 2] }, { a: [1] }, { a: [1] }],
    [{}, { a: 1 }, { a: 1 }],
    [{ a: 1 }, { a: 1 }, {}],
  ])("%j → %j is %j", (prev, next, patch) => {
    expect(mergePatch(prev, next)).toEqual(patch);
  });
});

describe("statusWriteDue", () => {
  const written = {
    phase: "Progressing" as const,
    step: 0,
    message: "step 1/2 at 10%: waiting, 120 of 200 requests",
    analysisState: { lastWindowMs: 1000 },
    conditions: [
      {
        type: "AnalysisPassing",
        status: "Unknown" as const,
        reason: "Inconclusive",
        message: "e=1.2",
        lastTransitionTime: "T",
      },
    ],
    lastDecision: {
      at: "T",
      action: "hold",
      reason: "e=1.2",
      checks: [{ name: "failure-rate", verdict: "inconclusive" as const }],
    },
  };
  const figures = {
    ...written,
    message: "step 1/2 at 10%: waiting, 150 of 200 requests",
    analysisState: { lastWindowMs: 2000 },
    conditions: [{ ...written.conditions[0]!, message: "e=1.4" }],
    lastDecision: { ...written.lastDecision, at: "T2", reason: "e=1.4" },
  };
  // [what changed, desired, ms since the last write, due]
  it.each<[string, object, number, boolean]>([
    ["nothing", written, 60_000, false],
    ["figures only, within the checkpoint", figures, 29_999, false],
    ["figures only, at the checkpoint", figures, 30_000, true],
    ["the phase", { ...figures, phase: "Paused", pausedBy: "manual" }, 0, true],
    ["the step", { ...written, step: 1 }, 0, true],
    [
      "a condition's status",
      { ...figures, conditions: [{ ...written.conditions[0]!, status: "True" }] },
      0,
      true,
    ],
    [
      "a check's verdict",
      {
        ...figures,
        lastDecision: { ...figures.lastDecision, checks: [{ name: "failure-rate", verdict: "fail" }] },
      },
      0,
      true,
    ],
    ["a command's answer", { ...written, lastCommand: "pause/1" }, 0, true],
  ])("%s changed", (_, desired, sinceMs, due) => {
    expect(statusWriteDue(written, desired, 1_000_000, 1_000_000 + sinceMs)).toBe(due);
  });

  it("writes at once when nothing was written by this replica yet", () => {
    expect(statusWriteDue(undefined, written, undefined, 0)).toBe(true);
    expect(statusWriteDue(written, figures, undefined, 0)).toBe(true);
  });
});

describe("pendingCommand", () => {
  it.each([
    [undefined, undefined, "none"],
    ["pause/1", "pause/1", "none"],
    ["pause/2", "pause/1", "command"],
    ["jump/3", undefined, "invalid"],
    ["promote", undefined, "invalid"],
  ])("annotation %s after %s → %s", (annotation, last, kind) => {
    expect(pendingCommand(annotation, last).kind).toBe(kind);
  });
});

describe("toAnalysisChecks", () => {
  it.each([
    [{ name: "f", failureRate: { maxIncrease: 0 } }, [{ name: "f", kind: "failureRate", maxRatio: 1 }]],
    [
      { name: "f", failureRate: { max: 5, maxIncrease: 2 } },
      [{ name: "f", kind: "failureRate", max: 0.05, maxIncrease: 0.02 }],
    ],
    [
      { name: "t", sustainedFor: "1m", metric: { name: "tokens", maxRatio: 1.5, maxPerMinute: 10 } },
      [
        { name: "t", sustainedForMs: 60000, kind: "metricPerRequest", metric: "tokens", maxRatio: 1.5 },
        { name: "t-rate", sustainedForMs: 60000, kind: "metricRate", metric: "tokens", maxPerMinute: 10 },
      ],
    ],
  ])("%j", (check, expected) => {
    expect(toAnalysisChecks([check])).toEqual(expected);
  });
});

describe("meshIntentFor", () => {
  const state = (phase: string, weightBp: number) =>
    ({ ...stateFromStatus(planRollout(spec), {}), phase, weightBp }) as never;
  it.each([
    ["Initializing", 0, undefined],
    [
      "Progressing",
      1000,
      {
        active: true,
        weights: [
          ["stable", "v1", 9000],
          ["canary", "v2", 1000],
        ],
      },
    ],
    [
      "RollingBack",
      0,
      {
        active: true,
        weights: [
          ["stable", "v1", 10000],
          ["canary", "v2", 0],
        ],
      },
    ],
    ["Succeeded", 10000, { active: false, finalSubset: "v2" }],
    ["RolledBack", 0, { active: false, finalSubset: undefined }],
    ["Aborted", 0, { active: false, finalSubset: undefined }],
  ])("%s at %d bp", (phase, bp, want) => {
    const intent = meshIntentFor("default/c", spec, state(phase as string, bp as number));
    if (want === undefined) return expect(intent).toBeUndefined();
    expect(intent?.active).toBe(want.active);
    if ("weights" in want)
      expect(intent?.weights.map((w) => [w.variant, w.subset, w.weightBp])).toEqual(want.weights);
    if ("finalSubset" in want) expect(intent?.finalSubset).toBe(want.finalSubset);
  });

  it("after undo, the finished rollback ends on the stable subset instead of the route found at its start", () => {
    const undone = { ...stateFromStatus(planRollout(spec), {}), phase: "RolledBack", undone: true } as never;
    expect(meshIntentFor("default/c", spec, undone)).toMatchObject({ active: false, finalSubset: "v1" });
  });
});

describe("routing table", () => {
  it("holds every canary's route, sorted, with its weights and versions that only go up", () => {
    const s = { ...stateFromStatus(planRollout(spec), {}), weightBp: 2500 };
    const table = routeTable([
      { canaryId: "ns/b", spec, state: s },
      { canaryId: "ns/a", spec, state: s },
    ]);
    const d = buildDirective(7, table);
    expect(d.version).toBe(7n);
    expect(d.routes.map((r) => r.canary)).toEqual(["ns/a", "ns/b"]);
    expect(d.routes[0]!.variants.map((v) => [v.name, v.weightBp])).toEqual([
      ["stable", 7500],
      ["canary", 2500],
    ]);
    expect(d.routes[0]!.cohort).toBe("ns/a");
    expect(nextDirectiveVersion(10, 5)).toBe(11);
    expect(nextDirectiveVersion(10, 500)).toBe(500);
  });
});

describe("routing table cap", () => {
  const initial = stateFromStatus(planRollout(spec), {});
  const started = { ...initial, phase: "Progressing" as const };
  const src = (canaryId: string, state = initial): RouteSource => ({ canaryId, spec, state });
  const ids = (sources: RouteSource[]) => sources.map((s) => s.canaryId);
  const cases: Array<{
    name: string;
    sources: RouteSource[];
    published: string[];
    max: number;
    routed: string[];
    leftOut: string[];
  }> = [
    {
      name: "within the limit: all",
      sources: [src("a"), src("b")],
      published: [],
      max: 2,
      routed: ["a", "b"],
      leftOut: [],
    },
    {
      name: "over it, nothing published: by id",
      sources: [src("c"), src("a"), src("b")],
      published: [],
      max: 2,
      routed: ["a", "b"],
      leftOut: ["c"],
    },
    {
      name: "published Canaries keep their place",
      sources: [src("a"), src("b"), src("z")],
      published: ["z", "b"],
      max: 2,
      routed: ["b", "z"],
      leftOut: ["a"],
    },
    {
      name: "started rollouts before new ones (restart)",
      sources: [src("a"), src("y", started), src("b"), src("x", started)],
      published: [],
      max: 2,
      routed: ["x", "y"],
      leftOut: ["a", "b"],
    },
    {
      name: "published before started",
      sources: [src("a", started), src("b"), src("c")],
      published: ["c"],
      max: 2,
      routed: ["c", "a"],
      leftOut: ["b"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const capped = capSources(c.sources, new Set(c.published), c.max);
      expect({ routed: ids(capped.routed), leftOut: capped.leftOut }).toEqual({
        routed: c.routed,
        leftOut: c.leftOut,
      });
    });
  }

  it("4097 new Canaries: the table holds 4096, sorted as published, and names the one left out", () => {
    const sources = Array.from({ length: 4097 }, (_, i) => src(`ns/c${String(i).padStart(4, "0")}`));
    const capped = capSources(sources, new Set());
    expect(capped.routed).toHaveLength(4096);
    expect(capped.leftOut).toEqual(["ns/c4096"]);
    expect(buildDirective(1, routeTable(capped.routed)).routes).toHaveLength(4096);
  });
});

describe("revisionOf", () => {
  it("changes with the subsets or the revision annotation, not with steps", () => {
    const base = healthySpec([10]);
    const r = revisionOf(base as never);
    expect(revisionOf(healthySpec([10, 20]) as never)).toBe(r);
    expect(revisionOf({ ...base, canary: { subset: "v3" } } as never)).not.toBe(r);
    expect(revisionOf(base as never, { "meshcanary.io/revision": "sha256:abc" })).not.toBe(r);
  });
});

describe("finalizersWanted", () => {
  const F = REVERT_FINALIZER;
  it.each([
    [[], true, [F]],
    [["other"], true, ["other", F]],
    [[F], true, undefined],
    [["other", F], false, ["other"]],
    [["other"], false, undefined],
  ])("%j with revert=%s → %j", (have, revert, want) => {
    expect(finalizersWanted(have, revert)).toEqual(want);
  });
});

describe("deletionIntent", () => {
  const plan = planRollout(spec);
  it.each([
    ["Initializing", 0, undefined],
    ["Progressing", 1000, { active: false }],
    ["Paused", 1000, { active: false }],
    ["Promoting", 5000, { active: false }],
    ["RollingBack", 0, { active: false }],
    ["RolledBack", 0, { active: false }],
    ["Aborted", 0, { active: false }],
    ["Succeeded", 10000, { active: false, finalSubset: "v2" }],
  ] as const)("%s at %i bp → %j", (phase, weightBp, want) => {
    const state = { ...stateFromStatus(plan, { phase }), weightBp };
    const intent = deletionIntent("default/c", spec, state);
    if (want === undefined) expect(intent).toBeUndefined();
    else {
      expect(intent).toMatchObject({ ...want, weights: [] });
      if (!("finalSubset" in want)) expect(intent?.finalSubset).toBeUndefined();
    }
  });
});
