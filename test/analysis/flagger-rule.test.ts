import { describe, expect, it } from "vitest";
import {
  FLAGGER_DEFAULTS,
  type FlaggerRuleConfig,
  type FlaggerState,
  flaggerCheck,
  flaggerRollbackTime,
} from "../../controller/analysis/flagger-rule.js";
import { SIM_CANARY } from "../../controller/analysis/simulate.js";
import type { WindowPoint } from "../../controller/telemetry/types.js";
import { countStats } from "../../controller/telemetry/windows.js";

function canaryWindow(second: number, requests: number, failures: number): WindowPoint {
  return { startMs: 1000 * second, variants: new Map([[SIM_CANARY, countStats(requests, failures)]]) };
}

/** One minute per entry: [requests per second, failures per second]; null = no traffic. */
function minutes(spec: ([number, number] | null)[]): WindowPoint[] {
  const out: WindowPoint[] = [];
  spec.forEach((m, i) => {
    if (!m) return;
    for (let s = 0; s < 60; s++) out.push(canaryWindow(60 * i + s, m[0], m[1]));
  });
  return out;
}

const RULE: FlaggerRuleConfig = { ...FLAGGER_DEFAULTS, threshold: 3 };

describe("Flagger-style rule", () => {
  it.each([
    {
      name: "2% errors every minute: rollback at the 3rd check",
      data: [
        [10, 0.2],
        [10, 0.2],
        [10, 0.2],
        [10, 0.2],
      ],
      at: 180_000,
    },
    {
      name: "clean traffic never rolls back",
      data: [
        [10, 0],
        [10, 0],
        [10, 0],
        [10, 0],
      ],
      at: null,
    },
    {
      name: "exactly 1% is not above the threshold",
      data: [
        [100, 1],
        [100, 1],
        [100, 1],
      ],
      at: null,
    },
    {
      name: "passing minutes do not reset the count",
      data: [
        [10, 1],
        [10, 0],
        [10, 1],
        [10, 0],
        [10, 1],
      ],
      at: 300_000,
    },
    { name: "no traffic counts as a failed check", data: [null, null, [10, 0], null], at: 240_000 },
  ] as { name: string; data: ([number, number] | null)[]; at: number | null }[])("$name", ({ data, at }) => {
    expect(flaggerRollbackTime(minutes(data), SIM_CANARY, 0, 60_000 * data.length, RULE)).toBe(at);
  });

  it("one check reads only the last interval", () => {
    const windows = minutes([
      [100, 50],
      [100, 0],
    ]);
    const first = flaggerCheck(windows, SIM_CANARY, 60_000, RULE);
    expect(first.errorRate).toBeCloseTo(0.5, 12);
    expect(first.failed).toBe(true);
    const second = flaggerCheck(windows, SIM_CANARY, 120_000, RULE, first.state);
    expect(second.errorRate).toBe(0);
    expect(second.failed).toBe(false);
    expect(second.state).toEqual({ failedChecks: 1, rolledBack: false } satisfies FlaggerState);
  });

  it("without noDataFails an empty interval is neither", () => {
    const r = flaggerCheck([], SIM_CANARY, 60_000, { ...RULE, noDataFails: false });
    expect(Number.isNaN(r.errorRate)).toBe(true);
    expect(r.failed).toBe(false);
  });
});
