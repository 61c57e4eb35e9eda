// The failure-rate comparison through evaluate() with per-user-group tallies: the same excess of
// canary failures rolls back when it shows across user groups, is held when it sits in one group
// (a few users), and, without group tallies (older filters), is judged by the block test alone.
import { describe, expect, it } from "vitest";
import { type AnalysisResult, evaluate } from "../../controller/analysis/analyze.js";
import type { WindowPoint } from "../../controller/telemetry/types.js";
import { emptyUserGroups, USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import { countStats } from "../../controller/telemetry/windows.js";

type Spread = "across groups" | "one group" | "no groups";

/** 300 s: stable 900 req/s with 2 failures, canary 100 req/s with 2 failures (10x stable's rate). */
function windows(spread: Spread): WindowPoint[] {
  return Array.from({ length: 300 }, (_, t) => {
    const arm = (requests: number, failures: number, canary: boolean) => {
      const stats = countStats(requests, failures);
      if (spread === "no groups") return stats;
      const g = emptyUserGroups();
      for (let i = 0; i < requests; i++) g.requests[i % USER_GROUPS]!++;
      for (let i = 0; i < failures; i++) {
        const group = canary && spread === "one group" ? 0 : (2 * t + i) % USER_GROUPS;
        g.failures[group]!++;
      }
      return { ...stats, userGroups: g };
    };
    return {
      startMs: t * 1000,
      variants: new Map([
        ["stable", arm(900, 2, false)],
        ["canary", arm(100, 2, true)],
      ]),
    };
  });
}

function judge(spread: Spread): AnalysisResult {
  const r = evaluate({
    windows: windows(spread),
    canaryVariant: "canary",
    stableVariant: "stable",
    checks: [{ kind: "failureRate", name: "errors", maxRatio: 1 }],
    canaryWeight: 0.1,
    nowMs: 300_000,
  });
  if (r instanceof Error) throw r;
  return r;
}

describe("failure-rate comparison with user groups", () => {
  it.each([
    ["across groups", "fail", /user-group e=/],
    ["one group", "inconclusive", /holding: not yet across user groups/],
    ["no groups", "fail", /canary worse than 1x stable/],
  ] as const)("excess failures %s: %s", (spread, verdict, reason) => {
    const r = judge(spread);
    expect(r.verdict).toBe(verdict);
    expect(r.checks[0]!.reason).toMatch(reason);
  });

  it("without the weight (no way to know the null share) the block test decides alone", () => {
    const r = evaluate({
      windows: windows("one group"),
      canaryVariant: "canary",
      stableVariant: "stable",
      checks: [{ kind: "failureRate", name: "errors", maxRatio: 1 }],
      nowMs: 300_000,
    });
    if (r instanceof Error) throw r;
    expect(r.verdict).toBe("fail");
  });
});
