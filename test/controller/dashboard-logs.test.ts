/** The API's bounded per-Canary logs: rollouts from status history, evidence from analyses. Pure. */
import { describe, expect, it } from "vitest";
import { EvidenceLog } from "../../controller/app/evidence-log.js";
import { RolloutLog } from "../../controller/app/rollout-log.js";
import type { CanaryStatus, Transition } from "../../controller/spec/schema.js";

const T0 = Date.UTC(2025, 0, 1, 12);

function tr(
  s: number,
  from: string,
  to: string,
  step = 0,
  weightBp = 0,
  reason = `${from}→${to}`,
): Transition {
  return { at: new Date(T0 + s * 1000).toISOString(), from, to, step, weightBp, reason };
}

/** A complete rollout starting at second s: steps 10% and 50%, then `end`. */
function rollout(s: number, start: string, end: "Succeeded" | "RolledBack"): Transition[] {
  return [
    tr(s, start, "Progressing", 0, 1000),
    tr(s + 1, "Progressing", "Progressing", 1, 5000),
    tr(
      s + 2,
      "Progressing",
      end === "Succeeded" ? "Promoting" : "RollingBack",
      1,
      end === "Succeeded" ? 10000 : 0,
    ),
    tr(s + 3, end === "Succeeded" ? "Promoting" : "RollingBack", end, 1, end === "Succeeded" ? 10000 : 0),
  ];
}

describe("RolloutLog", () => {
  it("splits history into rollouts at each start, without counting a transition twice", () => {
    const log = new RolloutLog();
    const first = rollout(0, "Initializing", "RolledBack");
    log.observe("a", { history: first.slice(0, 2) });
    // The same history again plus more: only the new transitions count.
    log.observe("a", { history: first });
    const second = [
      tr(10, "RolledBack", "Initializing", 0, 0, "retried"),
      ...rollout(11, "Initializing", "Succeeded"),
    ];
    log.observe("a", { history: [...first, ...second].slice(-20) });
    const view = log.view("a");
    expect(view.map((r) => [r.phase, r.transitions.length, r.maxStep, r.maxWeight])).toEqual([
      ["Succeeded", 5, 1, 100],
      ["RolledBack", 4, 1, 50],
    ]);
    expect(view[0]!.startedAt).toBe(second[0]!.at);
    expect(view[1]!.endedAt).toBe(first[3]!.at);
    // Another Canary's history is its own.
    expect(log.view("b")).toEqual([]);
  });

  it("keeps an undo after Succeeded in the same rollout, open until RolledBack", () => {
    const log = new RolloutLog();
    const done = rollout(0, "Initializing", "Succeeded");
    log.observe("a", { history: done });
    const undo = [...done, tr(9, "Succeeded", "RollingBack", 1, 0, "undone")];
    log.observe("a", { history: undo });
    expect(log.view("a")).toHaveLength(1);
    expect(log.view("a")[0]!.endedAt).toBeUndefined();
    log.observe("a", { history: [...undo, tr(10, "RollingBack", "RolledBack", 1, 0)] });
    expect(log.view("a")[0]).toMatchObject({
      phase: "RolledBack",
      endedAt: new Date(T0 + 10_000).toISOString(),
    });
  });

  it("gives an ended rollout the decision taken within it, and only that one", () => {
    const log = new RolloutLog();
    const d = (s: number, action: string) => ({
      at: new Date(T0 + s * 1000).toISOString(),
      action,
      reason: action,
      checks: [],
    });
    const history = rollout(0, "Initializing", "RolledBack");
    log.observe("a", { history, lastDecision: d(2, "rollback") });
    expect(log.view("a")[0]!.finalDecision).toMatchObject({ action: "rollback" });
    // A decision from before this rollout started is not its decision.
    const log2 = new RolloutLog();
    log2.observe("a", {
      history: rollout(100, "Initializing", "RolledBack"),
      lastDecision: d(2, "rollback"),
    });
    expect(log2.view("a")[0]!.finalDecision).toBeUndefined();
  });

  it("is bounded: the newest rollouts and each one's last transitions", () => {
    const log = new RolloutLog({ rollouts: 3, transitions: 2 });
    const history: CanaryStatus["history"] = [];
    for (let i = 0; i < 6; i++) {
      history.push(
        tr(i * 10, "RolledBack", "Initializing"),
        ...rollout(i * 10 + 1, "Initializing", "RolledBack"),
      );
      log.observe("a", { history: history.slice(-20) });
    }
    const view = log.view("a");
    expect(view).toHaveLength(3);
    expect(view[0]!.startedAt).toBe(new Date(T0 + 50_000).toISOString());
    expect(view.every((r) => r.transitions.length === 2)).toBe(true);
    expect(view[0]!.transitions.at(-1)!.phase).toBe("RolledBack");
  });
});

describe("EvidenceLog", () => {
  const analysis = (e: number | undefined) => ({
    verdict: "inconclusive" as const,
    reason: "",
    rollbackAt: 40,
    checks: [{ name: "f", verdict: "inconclusive" as const, ...(e === undefined ? {} : { eValue: e }) }],
  });

  it("records e-values in time order and skips analyses without any", () => {
    const log = new EvidenceLog();
    log.record("a", 1000, 0, analysis(1));
    log.record("a", 2000, 0, analysis(undefined));
    log.record("a", 3000, 1, analysis(Number.POSITIVE_INFINITY));
    log.record("a", 4000, 1, analysis(3));
    log.record("a", 3500, 1, analysis(5));
    expect(log.view("a", 0)).toEqual({
      rollbackAt: 40,
      points: [
        { t: 1000, step: 0, e: { f: 1 } },
        { t: 4000, step: 1, e: { f: 3 } },
      ],
    });
    expect(log.view("a", 2000).points).toHaveLength(1);
  });

  it("stays within its bound over a long rollout and still spans it from the start", () => {
    const log = new EvidenceLog(100);
    for (let i = 0; i < 10_000; i++) log.record("a", i * 1000, 0, analysis(i));
    const points = log.view("a", 0).points;
    expect(points.length).toBeLessThanOrEqual(100);
    expect(points[0]!.t).toBe(0);
    expect(points.at(-1)!.t).toBe(9_999_000);
    expect(points.every((p, i) => i === 0 || p.t > points[i - 1]!.t)).toBe(true);
  });
});
