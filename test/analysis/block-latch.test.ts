// The latch of a comparison's block crossing (user-group-comparison.ts): once the block test has
// crossed 1/α in a step, a later user-group rejection fails the comparison even if the block
// e-process has fallen back; the block test's peak is kept in the analysis state (so it survives a
// controller restart, and does not depend on when evaluations ran) and starts afresh with the step's
// state.
import { describe, expect, it } from "vitest";
import { type AnalysisState, evaluate } from "../../controller/analysis/analyze.js";
import { betEValue } from "../../controller/analysis/betting.js";
import {
  type ComparisonCondition,
  type ComparisonState,
  freshComparison,
  judgeComparison,
  observeComparison,
  settleComparison,
} from "../../controller/analysis/comparison-condition.js";
import { createGroupTest } from "../../controller/analysis/user-group-test.js";
import type { WindowPoint } from "../../controller/telemetry/types.js";
import { emptyUserGroups, USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import { countStats } from "../../controller/telemetry/windows.js";

const ALPHA = 0.01;
const BLOCK_MS = 10_000;
const condition: ComparisonCondition = {
  type: "comparison",
  label: "errors",
  theta0: 1,
  extract: (w) => {
    const c = w.variants.get("canary");
    const s = w.variants.get("stable");
    if (!c || !s) return undefined;
    return {
      canaryEvents: c.failures,
      canaryRequests: c.requests,
      stableEvents: s.failures,
      stableRequests: s.requests,
    };
  },
};
const rejecting = { ...createGroupTest(0.1), looks: 12, eSum: 250 };
const undecided = { ...createGroupTest(0.1), looks: 12, eSum: 3 };
const crossed = { e: 240, blocks: 14 };
const below = { e: 60, blocks: 14 };

describe("judgeComparison with the block test below 1/α now", () => {
  it.each([
    [
      "crossed earlier in the step, groups now reject: fails (the latch)",
      crossed,
      rejecting,
      "fail",
      /crossed earlier in the step: e=240 >= 100 after 14 block\(s\), now e=1.00; .*user-group e=250/,
    ],
    [
      "crossed earlier, groups not yet: held, and says so",
      crossed,
      undecided,
      "inconclusive",
      /crossed earlier in the step.*holding: not yet across user groups \(user-group e=3.00/,
    ],
    [
      "never crossed, groups reject: the block test must cross first",
      undefined,
      rejecting,
      "inconclusive",
      /not enough evidence yet/,
    ],
    [
      "peaked below 1/α, groups reject: the block test must cross first",
      below,
      rejecting,
      "inconclusive",
      /not enough evidence yet/,
    ],
    [
      "crossed earlier, no group tallies: the block test decides alone, as before",
      crossed,
      undefined,
      "inconclusive",
      /not enough evidence yet/,
    ],
  ] as const)("%s", (_name, blockPeak, groups, verdict, reason) => {
    const s: ComparisonState = {
      ...freshComparison(1, BLOCK_MS),
      ...(blockPeak ? { blockPeak } : {}),
      ...(groups ? { groups } : {}),
    };
    const r = judgeComparison(condition, s, ALPHA);
    expect(r.verdict).toBe(verdict);
    expect(r.reason).toMatch(reason);
    expect(r.eValue).toBeLessThan(1 / ALPHA);
  });

  it("a latch restored from status (JSON) fails the same way", () => {
    const s: ComparisonState = { ...freshComparison(1, BLOCK_MS), blockPeak: crossed, groups: rejecting };
    const restored = JSON.parse(JSON.stringify(s)) as ComparisonState;
    expect(judgeComparison(condition, restored, ALPHA)).toEqual(judgeComparison(condition, s, ALPHA));
    expect(judgeComparison(condition, restored, ALPHA).verdict).toBe("fail");
  });
});

/** One second of 1,000 req/s at a 10% weight; the failures of each arm spread over the groups (one group for `oneGroup`). */
function second(t: number, canaryFailures: number, stableFailures: number, oneGroup = false): WindowPoint {
  const arm = (requests: number, failures: number, canary: boolean) => {
    const g = emptyUserGroups();
    for (let i = 0; i < requests; i++) g.requests[i % USER_GROUPS]!++;
    for (let i = 0; i < failures; i++) g.failures[canary && oneGroup ? 0 : (3 * t + i) % USER_GROUPS]!++;
    return { ...countStats(requests, failures), userGroups: g };
  };
  return {
    startMs: t * 1000,
    variants: new Map([
      ["stable", arm(900, stableFailures, false)],
      ["canary", arm(100, canaryFailures, true)],
    ]),
  };
}

function run(from: number, to: number, f: (t: number) => WindowPoint): WindowPoint[] {
  return Array.from({ length: to - from }, (_, i) => f(from + i));
}

describe("the block test's peak over the step", () => {
  // Two minutes of a canary failing 13x stable's rate, then 13 clean minutes.
  const windows = [...run(0, 120, (t) => second(t, 3, 2)), ...run(120, 900, (t) => second(t, 0, 6))];
  const everySecond = () => {
    let s = freshComparison(1, BLOCK_MS);
    let highest = 0;
    for (const w of windows) {
      s = settleComparison(observeComparison(condition, s, w), w.startMs + 1000);
      highest = Math.max(highest, betEValue(s.fail));
    }
    return { s, highest };
  };

  it("is the highest e-value after any block, kept while the e-process falls back", () => {
    const { s, highest } = everySecond();
    expect(highest).toBeGreaterThanOrEqual(1 / ALPHA);
    expect(betEValue(s.fail)).toBeLessThan(1 / ALPHA);
    expect(s.blockPeak?.e).toBe(highest);
    expect(s.blockPeak!.blocks).toBeGreaterThan(0);
    expect(s.blockPeak!.blocks).toBeLessThan(s.fail.blocks);
  });

  it("does not depend on the evaluation cadence (one settle at the end, as a resumed controller)", () => {
    let s = freshComparison(1, BLOCK_MS);
    for (const w of windows) s = observeComparison(condition, s, w);
    s = settleComparison(s, 900_000);
    expect(s.blockPeak).toEqual(everySecond().s.blockPeak);
  });

  it("stays below 1/α when the block test never crosses", () => {
    let s = freshComparison(1, BLOCK_MS);
    for (const w of run(0, 300, (t) => second(t, 0, 2))) {
      s = settleComparison(observeComparison(condition, s, w), w.startMs + 1000);
    }
    expect(s.blockPeak!.e).toBeLessThan(1 / ALPHA);
  });
});

describe("through evaluate: kept across a restart, fresh with the step's state", () => {
  const input = (windows: WindowPoint[], nowMs: number) => ({
    windows,
    canaryVariant: "canary",
    stableVariant: "stable",
    checks: [{ kind: "failureRate" as const, name: "errors", maxRatio: 1 }],
    canaryWeight: 0.1,
    nowMs,
  });
  const analyse = (windows: WindowPoint[], nowMs: number, previous?: AnalysisState) => {
    const r = evaluate(input(windows, nowMs), previous);
    if (r instanceof Error) throw r;
    return r;
  };
  // A few users in one group fail: the block test crosses, the group test holds.
  const early = run(0, 120, (t) => second(t, 3, 2, true));
  // Then the canary is clean for 8 minutes: the block e-process falls back below 1/α, while the
  // step's totals still keep the pass test from crossing.
  const later = run(120, 600, (t) => second(t, 0, 2));

  it.each([
    ["the same controller", false, /crossed earlier in the step: e=.*holding: not yet across user groups/],
    [
      "a controller restarted from status (JSON, null fields dropped)",
      true,
      /crossed earlier in the step: e=.*holding/,
    ],
  ] as const)("%s still says the block test crossed", (_name, restart, reason) => {
    const first = analyse(early, 120_000);
    expect(first.checks[0]!.reason).toMatch(/holding: not yet across user groups/);
    const kept = restart ? (JSON.parse(JSON.stringify(first.state)) as AnalysisState) : first.state;
    const r = analyse([...early, ...later], 600_000, kept);
    expect(r.verdict).toBe("inconclusive");
    expect(r.checks[0]!.reason).toMatch(reason);
    expect(r.checks[0]!.eValue).toBeLessThan(1 / ALPHA);
  });

  it("a new step (the state dropped, as on every step move) starts without the crossing", () => {
    const crossings = (st: AnalysisState) =>
      Object.values(st.checks.errors!.conditions).map((c) =>
        c.type === "comparison" ? c.blockPeak!.e >= 1 / ALPHA : "n/a",
      );
    expect(crossings(analyse(early, 120_000).state)).toEqual([true]);
    const r = analyse(later, 600_000);
    expect(crossings(r.state)).toEqual([false]);
    expect(r.checks[0]!.reason).not.toMatch(/crossed earlier/);
  });
});
