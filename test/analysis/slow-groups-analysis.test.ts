// The latency ratio comparison (p99 ≤ 1.2 × stable's pre-step p99) through evaluate() with the
// filter's per-user-group counts of requests above each arm's threshold (UserGroupStats.slow): the
// same heavier canary tail rolls back when it shows across user groups, is held when it sits in one
// group (a few sticky slow users), and is judged by the block test alone when no window carries
// counts at exactly the thresholds the check judges (older filters, or the previous step's).
import { describe, expect, it } from "vitest";
import { type AnalysisResult, evaluate } from "../../controller/analysis/analyze.js";
import { slowGroups } from "../../controller/analysis/user-group-comparison.js";
import { emptySketch, record } from "../../controller/telemetry/sketch.js";
import type { VariantStats, WindowPoint } from "../../controller/telemetry/types.js";
import { emptyUserGroups, USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import { countStats } from "../../controller/telemetry/windows.js";

/** Stable's pre-step p99 T0 = 100 ms; the canary is judged above r·T0 = 120 ms. */
const T0_US = 100_000;
const CANARY_US = 120_000;
/** The thresholds of the previous step (another T0). */
const OLD = { stable: 90_000, canary: 108_000 };

type Spread = "across groups" | "one group";
/** Where each window's slow counts are keyed: the check's thresholds, none, or the previous step's. */
type Keys = "exact" | "none" | "previous step's";

/**
 * One arm's second: `requests` requests, `slow` of them above its threshold `thresholdUs`,
 * counted per user group at `keyUs` (or not at all), spread across groups or all in group 0.
 */
function arm(
  t: number,
  requests: number,
  slow: number,
  thresholdUs: number,
  keyUs: number | undefined,
  spread: Spread,
): VariantStats {
  const latency = emptySketch();
  record(latency, thresholdUs / 2, requests - slow);
  record(latency, thresholdUs * 1.5, slow);
  const g = emptyUserGroups();
  for (let i = 0; i < requests; i++) g.requests[i % USER_GROUPS]!++;
  if (keyUs !== undefined) {
    const counts = new Array<number>(USER_GROUPS).fill(0);
    for (let i = 0; i < slow; i++) counts[spread === "one group" ? 0 : (3 * t + i) % USER_GROUPS]!++;
    g.slow = new Map([[keyUs, counts]]);
  }
  return { ...countStats(requests, 0, latency), userGroups: g };
}

/**
 * 300 s: stable 900 req/s with 9 above T0 (its 1%), canary 100 req/s with 5 above r·T0 (5x stable's
 * share), the canary's slow requests from `spread`; the first `previousFor` seconds are counted at the
 * previous step's thresholds (the new ones not yet installed), with the canary's slow requests then
 * across all groups.
 */
function windows(spread: Spread, keys: Keys, previousFor = 0): WindowPoint[] {
  return Array.from({ length: 300 }, (_, t) => {
    const old = keys === "previous step's" || t < previousFor;
    const key = (exact: number, previous: number) => (keys === "none" ? undefined : old ? previous : exact);
    return {
      startMs: t * 1000,
      variants: new Map([
        ["stable", arm(t, 900, 9, T0_US, key(T0_US, OLD.stable), "across groups")],
        ["canary", arm(t, 100, 5, CANARY_US, key(CANARY_US, OLD.canary), old ? "across groups" : spread)],
      ]),
    };
  });
}

function judge(w: WindowPoint[]): AnalysisResult {
  const r = evaluate({
    windows: w,
    canaryVariant: "canary",
    stableVariant: "stable",
    checks: [{ kind: "latency", name: "p99", quantile: 0.99, maxRatio: 1.2 }],
    baselines: { stableLatencyUs: { "0.99": T0_US } },
    canaryWeight: 0.1,
    nowMs: 300_000,
  });
  if (r instanceof Error) throw r;
  return r;
}

describe("latency ratio comparison with slow counts per user group", () => {
  it.each([
    ["all canary users slower (across groups)", "fail", windows("across groups", "exact"), /user-group e=/],
    [
      "a few slow users on the canary (one group)",
      "inconclusive",
      windows("one group", "exact"),
      /holding: not yet across user groups/,
    ],
    [
      "no slow counts (older filters): block test alone",
      "fail",
      windows("one group", "none"),
      /worse than 1x/,
    ],
    [
      "counts only at the previous step's thresholds: block test alone",
      "fail",
      windows("one group", "previous step's"),
      /worse than 1x stable \(e=[^)]*\)$/,
    ],
    [
      "previous step's counts in the first 30 s are not used, the exact ones after are",
      "inconclusive",
      windows("one group", "exact", 30),
      /holding: not yet across user groups/,
    ],
  ] as const)("%s: %s", (_name, verdict, w, reason) => {
    const r = judge(w);
    expect(r.verdict).toBe(verdict);
    expect(r.checks[0]!.reason).toMatch(reason);
  });
});

describe("slowGroups: which windows feed the user-group test", () => {
  const v = { stable: "stable", canary: "canary" };
  const extract = slowGroups(v, CANARY_US, T0_US).extract;
  const point = (canary?: VariantStats, stable?: VariantStats): WindowPoint => {
    const variants = new Map<string, VariantStats>();
    if (canary) variants.set("canary", canary);
    if (stable) variants.set("stable", stable);
    return { startMs: 7000, variants };
  };
  const at = (keyUs: number | undefined, requests = 100) =>
    arm(0, requests, 3, CANARY_US, keyUs, "one group");
  const total = (counts: readonly number[]) => counts.reduce((a, b) => a + b, 0);

  it.each([
    ["both arms at their thresholds", point(at(CANARY_US), at(T0_US)), [3, 3]],
    ["canary served nothing: its count is known to be 0", point(undefined, at(T0_US)), [0, 3]],
    ["canary with requests but no counts", point(at(undefined), at(T0_US)), undefined],
    ["stable at the previous step's threshold", point(at(CANARY_US), at(OLD.stable)), undefined],
    ["canary's threshold key on stable and stable's on canary", point(at(T0_US), at(CANARY_US)), undefined],
    ["neither arm served anything", point(), undefined],
  ] as const)("%s", (_name, w, want) => {
    const g = extract(w);
    if (want === undefined) {
      expect(g).toBeUndefined();
      return;
    }
    expect(g?.startMs).toBe(7000);
    expect([total(g!.canary.failures), total(g!.stable.failures)]).toEqual(want);
  });
});
