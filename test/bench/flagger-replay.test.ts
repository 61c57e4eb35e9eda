// The Flagger-style rule replayed on recorded windows: gap filling, the latency rule, check phases.
import { describe, expect, it } from "vitest";
import {
  continueWindows,
  flaggerLatencyRollbackTime,
  flaggerMedianSeconds,
  flaggerSecondsAtPhase,
  type Recording,
} from "../../bench/flagger-replay.js";
import { mulberry32 } from "../../controller/analysis/simulate.js";
import { emptySketch, record } from "../../controller/telemetry/sketch.js";
import type { VariantStats, WindowPoint } from "../../controller/telemetry/types.js";
import { countStats } from "../../controller/telemetry/windows.js";

function stats(requests: number, failures: number, latencyMs: number): VariantStats {
  const latencyUs = emptySketch();
  record(latencyUs, latencyMs * 1000, requests);
  return countStats(requests, failures, latencyUs);
}

/** A canary-only window: 100 requests with `failures` failed, all taking `latencyMs`. */
function win(startMs: number, failures: number, latencyMs = 20): WindowPoint {
  return { startMs, variants: new Map([["canary", stats(100, failures, latencyMs)]]) };
}

const ONSET = 1_000_000;
/** Recorded: 10 healthy seconds (1% failures, 20 ms), then 5 faulty ones (5%, 120 ms) from the onset. */
const RECORDING: Recording = {
  windows: [
    ...Array.from({ length: 10 }, (_, i) => win(ONSET - 10_000 + i * 1000, 1)),
    ...Array.from({ length: 5 }, (_, i) => win(ONSET + i * 1000, 5, 120)),
  ],
  fromMs: ONSET - 10_000,
  toMs: ONSET + 5000,
  onsetMs: ONSET,
};

describe("continueWindows", () => {
  const filled = continueWindows(RECORDING, ONSET - 60_000, ONSET + 60_000, mulberry32(1));
  if (filled instanceof Error) throw filled;
  const failuresAt = (ms: number) => filled.find((w) => w.startMs === ms)?.variants.get("canary")?.failures;

  it("has one window per second of the range", () => {
    expect(filled.map((w) => w.startMs)).toEqual(
      Array.from({ length: 120 }, (_, i) => ONSET - 60_000 + i * 1000),
    );
  });
  it.each([
    ["a gap before the onset draws a healthy second", ONSET - 30_000, 1],
    ["a recorded healthy second is kept", ONSET - 5000, 1],
    ["a recorded faulty second is kept", ONSET + 2000, 5],
    ["a gap after the onset draws a faulty second", ONSET + 30_000, 5],
  ])("%s", (_, ms, want) => {
    expect(failuresAt(ms)).toBe(want);
  });
  it("is an error without a faulty second to draw from", () => {
    const r = continueWindows({ ...RECORDING, toMs: ONSET }, ONSET - 1000, ONSET + 1000, mulberry32(1));
    expect(r).toBeInstanceOf(Error);
  });
});

describe("flaggerLatencyRollbackTime", () => {
  const windows = Array.from({ length: 300 }, (_, i) => win(i * 1000, 0, i >= 100 ? 120 : 20));
  it.each([
    ["healthy p99 under the limit never fails", 200, 1, null],
    ["slow from 100 s: first failed check at 120 s with threshold 1", 50, 1, 120_000],
    ["threshold 3 waits for the third failed check", 50, 3, 240_000],
  ])("%s", (_, maxMs, threshold, want) => {
    const at = flaggerLatencyRollbackTime(
      windows,
      "canary",
      { quantile: 0.99, maxUs: maxMs * 1000 },
      0,
      300_000,
      {
        intervalMs: 60_000,
        threshold,
      },
    );
    expect(at).toBe(want);
  });
  it("a check with no canary requests fails", () => {
    const at = flaggerLatencyRollbackTime([], "canary", { quantile: 0.99, maxUs: 1e9 }, 0, 60_000, {
      intervalMs: 60_000,
      threshold: 1,
    });
    expect(at).toBe(60_000);
  });
});

describe("flaggerSecondsAtPhase (error rate above 2%)", () => {
  const windows = continueWindows(RECORDING, ONSET - 60_000, ONSET + 600_000, mulberry32(2));
  if (windows instanceof Error) throw windows;
  const metric = { kind: "errorRate", maxErrorRate: 0.02 } as const;
  it.each([
    // Check at onset + 60 s over a fully faulty minute.
    ["clock starts at the onset", 0, 1, 60],
    // 30 s at 1% and 30 s at 5%: 3% fails the check at onset + 30 s.
    ["half the first interval faulty", 30, 1, 30],
    // 50 s at 1% and 10 s at 5%: 1.67% passes; the next check fails.
    ["too little of the first interval faulty", 50, 1, 70],
    ["five failed checks", 0, 5, 300],
  ])("%s", (_, phase, threshold, want) => {
    const s = flaggerSecondsAtPhase(windows, "canary", ONSET, phase, 600, metric, {
      intervalMs: 60_000,
      threshold,
    });
    expect(s).toBe(want);
  });
});

describe("flaggerMedianSeconds", () => {
  it("takes the median over the check phases", () => {
    const s = flaggerMedianSeconds(
      RECORDING,
      "canary",
      { kind: "errorRate", maxErrorRate: 0.02 },
      { intervalMs: 60_000, threshold: 1 },
      600,
      mulberry32(3),
    );
    // Phases 0..44 roll back at the first check (60 − phase: 16..60 s), 45..59 at the second
    // (120 − phase: 61..75 s); the 31st of the 60 sorted times is 46 s.
    expect(s).toBe(46);
  });
  it("counts a rule that never rolls back as the horizon", () => {
    const s = flaggerMedianSeconds(
      RECORDING,
      "canary",
      { kind: "errorRate", maxErrorRate: 0.5 },
      { intervalMs: 60_000, threshold: 1 },
      600,
      mulberry32(3),
    );
    expect(s).toBe(600);
  });
});
