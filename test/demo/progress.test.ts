import { describe, expect, it } from "vitest";
import { Progress, scenarioPlans } from "../../sandbox/demo/scenario.js";
import { initialState, observe, type ScenarioState } from "../../sandbox/demo/scenario-state.js";

const T0 = Date.parse("2026-11-22T03:00:00.000Z");

function state(): ScenarioState {
  const [plan] = scenarioPlans({ scenario: "healthy", speed: 1, fault: { kind: "error-rate", rate: 0.05 } });
  let s = initialState(plan!, T0);
  s = observe(s, { nowMs: T0, counters: {}, canaryToStableAt: [], servedByVersion: {} });
  return s;
}

function capture(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  const out = { write: (t: string) => writes.push(t), isTTY, ...(columns ? { columns } : {}) };
  return { writes, progress: new Progress(out) };
}

describe("Progress", () => {
  it("redraws the block in place on a TTY, lines cut to the terminal width", () => {
    const { writes, progress } = capture(true, 40);
    const s = state();
    progress.update([s], T0);
    progress.update([s], T0 + 500);
    const height = writes[0]!.split("\n").length - 1;
    expect(height).toBeGreaterThan(3);
    expect(writes[0]!.startsWith("\x1b[")).toBe(false);
    expect(writes[1]!.startsWith(`\x1b[${height}F\x1b[0J`)).toBe(true);
    const redrawn = writes[1]!.slice(`\x1b[${height}F\x1b[0J`.length);
    for (const line of redrawn.split("\n")) expect(line.length).toBeLessThanOrEqual(39);
    expect(redrawn.split("\n")[0]).toMatch(/…$/);
  });

  it("appends each timeline event once when not a TTY", () => {
    const { writes, progress } = capture(false);
    const s = state();
    progress.update([s], T0);
    progress.update([s], T0 + 500);
    expect(writes).toEqual(["+  0.0s healthy  Canary applied\n"]);
  });
});
