import { describe, expect, it } from "vitest";
import type { AnalysisInput, AnalysisState } from "../../controller/analysis/analyze.js";
import { evaluate } from "../../controller/analysis/analyze.js";
import type { Check } from "../../controller/analysis/checks.js";
import {
  describeHold,
  evaluateRobust,
  groupsWithData,
  type RobustResult,
  withoutGroup,
} from "../../controller/analysis/leave-one-out.js";
import { binomial, mulberry32, SIM_CANARY, SIM_STABLE } from "../../controller/analysis/simulate.js";
import type { VariantStats, WindowPoint } from "../../controller/telemetry/types.js";
import { countStats, Windows } from "../../controller/telemetry/windows.js";

/** One reporter's traffic per second: requests and failure probability of each arm. */
interface Reporter {
  canary: [requests: number, failure: number];
  stable: [requests: number, failure: number];
  /** First second it reports in (default 0). */
  from?: number;
}

/** Windows built the way the telemetry server builds them: each reporter's delta into its group. */
function traffic(reporters: Reporter[], seconds: number, seed = 7): WindowPoint[] {
  const rng = mulberry32(seed);
  const windows = new Windows();
  for (let t = 0; t < seconds; t++) {
    reporters.forEach((r, group) => {
      if (t < (r.from ?? 0)) return;
      for (const [variant, [n, p]] of [
        [SIM_CANARY, r.canary],
        [SIM_STABLE, r.stable],
      ] as const) {
        if (n > 0) windows.add("c", variant, countStats(n, binomial(rng, n, p)), t * 1000 + 500, group);
      }
    });
  }
  return windows.series("c", 0, seconds * 1000);
}

const failureRate: Check = { name: "errors", kind: "failureRate", maxRatio: 1.5 };
const input = (windows: WindowPoint[]): AnalysisInput => ({
  windows,
  canaryVariant: SIM_CANARY,
  stableVariant: SIM_STABLE,
  checks: [failureRate],
  canaryWeight: 0.5,
});

const honest = (canaryFailure: number): Reporter => ({ canary: [50, canaryFailure], stable: [50, 0.01] });

describe("no single reporter decides (leave-one-out)", () => {
  const cases: Array<{
    name: string;
    reporters: Reporter[];
    seconds: number;
    pooled: string;
    robust: string;
    heldBy?: number;
  }> = [
    {
      name: "three honest reporters, canary failing 20%: fail stands",
      reporters: [honest(0.2), honest(0.2), honest(0.2)],
      seconds: 300,
      pooled: "fail",
      robust: "fail",
    },
    {
      name: "three honest reporters, healthy canary: pass stands",
      reporters: [honest(0.01), honest(0.01), honest(0.01)],
      seconds: 300,
      pooled: "pass",
      robust: "pass",
    },
    {
      name: "a forger's canary successes outweigh two honest reporters seeing 20% failures: no pass",
      reporters: [honest(0.2), honest(0.2), { canary: [5000, 0], stable: [5000, 0.01] }],
      seconds: 300,
      pooled: "pass",
      robust: "inconclusive",
      heldBy: 2,
    },
    {
      name: "a forger's 16 canary failures a second against a healthy canary: no rollback",
      reporters: [honest(0.01), honest(0.01), { canary: [16, 1], stable: [0, 0] }],
      seconds: 300,
      pooled: "fail",
      robust: "inconclusive",
      heldBy: 2,
    },
    {
      name: "a shadow's receiving side alone reports the compared variant: its fail stands (nothing to compare without it)",
      reporters: [
        { canary: [0, 0], stable: [50, 0.01] },
        { canary: [50, 0.2], stable: [0, 0] },
      ],
      seconds: 300,
      pooled: "fail",
      robust: "fail",
    },
    {
      name: "a single reporter decides alone (nobody disagrees)",
      reporters: [honest(0.2)],
      seconds: 300,
      pooled: "fail",
      robust: "fail",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const windows = traffic(c.reporters, c.seconds);
      const pooled = evaluate(input(windows));
      const robust = evaluateRobust(input(windows), undefined, new Map([[2, ["team-x/forger-0"]]]));
      if (pooled instanceof Error || robust instanceof Error) throw pooled;
      expect(pooled.verdict).toBe(c.pooled);
      expect(robust.verdict).toBe(c.robust);
      expect(robust.reporterHold?.group).toBe(c.heldBy);
      if (c.heldBy !== undefined)
        expect(describeHold(robust.reporterHold!)).toMatch(/held: it rests on team-x\/forger-0; without it/);
      // The pooled analysis' state is kept either way, beside one state per reporter group.
      const { leaveOneOut, ...rest } = robust.state;
      expect(rest).toEqual(pooled.state);
      expect(Object.keys(leaveOneOut ?? {})).toEqual(c.reporters.map((_, g) => String(g)));
    });
  }

  it("tick by tick it reaches what one evaluation of the whole step does, with a forger joining late", () => {
    // The forger's first report arrives ten seconds into the step.
    const forger: Reporter = { canary: [16, 1], stable: [0, 0], from: 10 };
    const windows = traffic([honest(0.01), honest(0.01), forger], 300);
    let state: AnalysisState | undefined;
    let last: RobustResult | undefined;
    for (let t = 1; t <= windows.length; t++) {
      const r = evaluateRobust({ ...input(windows.slice(0, t)), nowMs: t * 1000 }, state);
      if (r instanceof Error) throw r;
      state = r.state;
      last = r;
    }
    const once = evaluateRobust({ ...input(windows), nowMs: windows.length * 1000 }, undefined);
    if (once instanceof Error) throw once;
    expect(last!.verdict).toBe("inconclusive");
    expect(last!.reporterHold?.group).toBe(2);
    expect(once.verdict).toBe(last!.verdict);
    expect(Object.keys(state!.leaveOneOut ?? {})).toEqual(["0", "1", "2"]);
  });

  it("a pooled state kept without leave-one-out states starts them over on the whole step", () => {
    const windows = traffic([honest(0.01), honest(0.01), { canary: [16, 1], stable: [0, 0] }], 300);
    const half = evaluate(input(windows.slice(0, 150)));
    if (half instanceof Error) throw half;
    const r = evaluateRobust(input(windows), half.state);
    if (r instanceof Error) throw r;
    expect(r.verdict).toBe("inconclusive");
    expect(r.reporterHold?.group).toBe(2);
  });

  it("windows not split by reporter are analysed as before", () => {
    const split = traffic([honest(0.2), honest(0.2)], 120);
    const whole = split.map((w) => ({ startMs: w.startMs, variants: w.variants }));
    expect(groupsWithData(whole)).toEqual([]);
    const robust = evaluateRobust(input(whole), undefined);
    expect(robust).toEqual(evaluate(input(whole)));
  });

  it("leaving a group out subtracts exactly its data", () => {
    const windows = traffic([honest(0.2), { canary: [7, 1], stable: [3, 0] }], 5);
    const without = withoutGroup(windows, 1);
    for (let i = 0; i < windows.length; i++) {
      const all = windows[i]!.variants.get(SIM_CANARY) as VariantStats;
      const left = without[i]!.variants.get(SIM_CANARY) as VariantStats;
      expect(all.requests - left.requests).toBe(7);
      expect(all.failures - left.failures).toBe(7);
      expect(without[i]!.groups).toBeUndefined();
    }
    expect(groupsWithData(windows)).toEqual([0, 1]);
  });
});
