import { describe, expect, it } from "vitest";
import type { Check } from "../../controller/analysis/checks.js";
import {
  MAX_SLOW_THRESHOLDS,
  slowThresholds,
  thresholdKeyUs,
} from "../../controller/analysis/slow-thresholds.js";
import { addUserGroups, emptyUserGroups } from "../../controller/telemetry/user-groups.js";

const v = { stable: "stable", canary: "canary" };
const p99: Check = { kind: "latency", name: "p99", quantile: 0.99, maxRatio: 1.2 };

describe("slowThresholds", () => {
  const cases: { name: string; checks: Check[]; baselines?: object; want: [string, number][] }[] = [
    { name: "no baseline yet", checks: [p99], want: [] },
    {
      name: "stable at T0, canary at r·T0, whole µs",
      checks: [p99],
      baselines: { stableLatencyUs: { "0.99": 100_000.4 } },
      want: [
        ["stable", 100_000],
        ["canary", 120_000],
      ],
    },
    {
      name: "absolute ceilings and other kinds ask for none",
      checks: [
        { kind: "latency", name: "ceiling", quantile: 0.99, maxMs: 500 },
        { kind: "failureRate", name: "f", maxRatio: 1 },
      ],
      baselines: { stableLatencyUs: { "0.99": 1000 } },
      want: [],
    },
    {
      name: "a check at the same quantile and ratio adds nothing",
      checks: [p99, { ...p99, name: "again" }, { ...p99, name: "p50", quantile: 0.5, maxRatio: 2 }],
      baselines: { stableLatencyUs: { "0.99": 1000, "0.5": 200 } },
      want: [
        ["stable", 1000],
        ["canary", 1200],
        ["stable", 200],
        ["canary", 400],
      ],
    },
    {
      name: "a broken baseline asks for none",
      checks: [p99],
      baselines: { stableLatencyUs: { "0.99": Number.NaN } },
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(slowThresholds(c.checks, v, c.baselines).map((t) => [t.variant, t.thresholdUs])).toEqual(c.want);
    });
  }

  it("stops at the filter's limit", () => {
    const checks: Check[] = Array.from({ length: 10 }, (_, i) => ({
      ...p99,
      name: `c${i}`,
      maxRatio: 1 + i / 10,
    }));
    const got = slowThresholds(checks, v, { stableLatencyUs: { "0.99": 1000 } });
    expect(got).toHaveLength(MAX_SLOW_THRESHOLDS);
    expect(thresholdKeyUs(0.2)).toBe(1);
  });
});

describe("addUserGroups with slow counts", () => {
  it("adds per threshold and group, keeping thresholds apart", () => {
    const into = emptyUserGroups();
    addUserGroups(into, { ...emptyUserGroups(), slow: new Map([[1000, [1, 2]]]) });
    addUserGroups(into, {
      ...emptyUserGroups(),
      slow: new Map([
        [1000, [3]],
        [1200, [0, 5]],
      ]),
    });
    expect(into.slow?.get(1000)?.slice(0, 3)).toEqual([4, 2, 0]);
    expect(into.slow?.get(1200)?.slice(0, 3)).toEqual([0, 5, 0]);
    expect(into.slow?.get(1000)).toHaveLength(32);
  });
});
