// The user-group test (controller/analysis/user-group-test.ts) and how a failure-rate comparison
// uses it (user-group-comparison.ts): its e-value's table of cases, its look schedule, its validity
// when a few users fail often and stay on one variant for the whole step (the case time blocks
// cannot fix), and its power against a real regression.
import { describe, expect, it } from "vitest";
import { mulberry32, poisson, type Rng } from "../../controller/analysis/simulate.js";
import { userGroupVerdict } from "../../controller/analysis/user-group-comparison.js";
import {
  createGroupTest,
  type GroupTestState,
  groupEValue,
  groupTestRejects,
  LOOK_MS,
  lookWeight,
  observeGroupTest,
  settleGroupTest,
} from "../../controller/analysis/user-group-test.js";
import { USER_GROUPS } from "../../controller/telemetry/user-groups.js";

const zeros = () => new Array<number>(USER_GROUPS).fill(0);
const filled = (v: number) => new Array<number>(USER_GROUPS).fill(v);

describe("groupEValue", () => {
  it.each([
    ["no failures anywhere: no evidence", zeros(), zeros(), 0.1, (e: number) => e === 1],
    [
      "every group's canary share exactly q: no evidence",
      filled(1),
      filled(10),
      0.1,
      (e: number) => Math.abs(e - 1) < 1e-12,
    ],
    [
      "every group's failures all on the canary: strong evidence",
      filled(5),
      filled(5),
      0.1,
      (e: number) => e > 1e6,
    ],
    ["every group's failures all on stable: below 1", zeros(), filled(5), 0.1, (e: number) => e < 0.5],
    [
      "one group all canary, the rest at q: at most one group's worth (1 + 0.9 (1 − q)/q)",
      [5, ...filled(1).slice(1)],
      [5, ...filled(10).slice(1)],
      0.1,
      (e: number) => e > 1 && e <= 1 + 0.9 * 9,
    ],
    ["a degenerate null share carries no evidence", filled(5), filled(5), 1, (e: number) => e === 1],
  ])("%s", (_name, canary, total, q, ok) => {
    const e = groupEValue(canary, total, q);
    expect(ok(e), `e = ${e}`).toBe(true);
  });

  it("weighs groups, not failures: a thousand failures in one group count as that group once", () => {
    const one = groupEValue([1000, ...zeros().slice(1)], [1000, ...zeros().slice(1)], 0.1);
    const few = groupEValue([2, ...zeros().slice(1)], [2, ...zeros().slice(1)], 0.1);
    expect(one).toBeCloseTo(few, 12);
  });
});

describe("looks", () => {
  it("the look weights sum to at most 1", () => {
    let s = 0;
    for (let k = 1; k <= 100_000; k++) s += lookWeight(k);
    expect(s).toBeLessThanOrEqual(1);
    expect(s).toBeGreaterThan(0.9999);
  });

  it("looks every LOOK_MS from the first window, each seeing only the windows before it", () => {
    const window = (startMs: number, c: number) => ({
      startMs,
      canary: { requests: filled(1), failures: filled(c) },
      stable: { requests: filled(1), failures: zeros() },
    });
    let s = observeGroupTest(createGroupTest(0.1), window(5_000, 0));
    expect(s.looks).toBe(0);
    s = settleGroupTest(s, 5_000 + LOOK_MS - 1);
    expect(s.looks).toBe(0);
    s = settleGroupTest(s, 5_000 + LOOK_MS);
    // The first look saw groups with no failures: E = 1, weight ½.
    expect(s.looks).toBe(1);
    expect(s.eSum).toBeCloseTo(0.5, 12);
    // A window 3 looks later takes the 2 looks due before it first, on the data before it.
    s = observeGroupTest(s, window(5_000 + 3 * LOOK_MS, 1));
    expect(s.looks).toBe(3);
    expect(s.eSum).toBeCloseTo(0.5 + 1 / 6 + 1 / 12, 12);
    s = settleGroupTest(s, 5_000 + 4 * LOOK_MS);
    expect(s.eSum).toBeGreaterThan(1);
  });
});

/**
 * One step of sticky traffic as in the bench's sticky model: 3,000 users sending 0.2 requests/s,
 * 1% of them failing 20% of their requests (the rest 0.2%), each assigned to the canary with probability w once for the whole step
 * and to a random user group; the canary multiplies every user's failure rate by `effect`.
 * Returns the second the user-group test rejected at `alpha`, or null.
 */
function stickyStep(
  rng: Rng,
  o: { w: number; effect: number; alpha: number; seconds: number; onset?: number },
): number | null {
  const users = 3000;
  const perUserRps = 0.2;
  let effect = 1;
  const rate = (arm: "canary" | "stable", g: number) => rates[arm][g]! * (arm === "canary" ? effect : 1);
  const rates = { canary: zeros(), stable: zeros() };
  for (let u = 0; u < users; u++) {
    const p = rng() < 0.01 ? 0.2 : 0.002;
    rates[rng() < o.w ? "canary" : "stable"][Math.floor(rng() * USER_GROUPS)]! += perUserRps * p;
  }
  const q = (1 * o.w) / (1 * o.w + 1 - o.w);
  let s: GroupTestState = createGroupTest(q);
  for (let t = 0; t < o.seconds; t++) {
    effect = t >= (o.onset ?? 0) ? o.effect : 1;
    const arm = (a: "canary" | "stable") => ({
      requests: zeros(),
      failures: rates[a].map((_, g) => poisson(rng, rate(a, g))),
    });
    s = observeGroupTest(s, { startMs: t * 1000, canary: arm("canary"), stable: arm("stable") });
    s = settleGroupTest(s, (t + 1) * 1000);
    if (groupTestRejects(s, o.alpha)) return t + 1;
  }
  return null;
}

describe("validity and power under sticky heterogeneous users", () => {
  it("A/A: rejects at most alpha of steps though the canary's user mix differs all step long", () => {
    const rng = mulberry32(18);
    const runs = 300;
    const alpha = 0.05;
    let rejected = 0;
    for (let i = 0; i < runs; i++)
      if (stickyStep(rng, { w: 0.1, effect: 1, alpha, seconds: 300 }) !== null) rejected++;
    // Binomial(300, 0.05) exceeds 27 with probability < 0.1%.
    expect(rejected).toBeLessThanOrEqual(27);
  });

  it("a 5x regression is rejected in nearly every step, within a minute or two", () => {
    const rng = mulberry32(5);
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = stickyStep(rng, { w: 0.1, effect: 5, alpha: 0.002, seconds: 600 });
      if (t !== null) times.push(t);
    }
    expect(times.length).toBeGreaterThanOrEqual(38);
    times.sort((a, b) => a - b);
    expect(times[times.length >> 1]).toBeLessThanOrEqual(120);
  });
});

describe("late onsets", () => {
  it("a 5x regression after 20 healthy minutes is caught within minutes of its onset", () => {
    const rng = mulberry32(20);
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = stickyStep(rng, { w: 0.1, effect: 5, alpha: 0.002, seconds: 1500, onset: 1200 });
      if (t !== null && t > 1200) delays.push(t - 1200);
    }
    // The look weight after 20 minutes costs ln(1/π_120) ≈ 9.6 nats more than at the start: slower
    // than from the start (median ≤ 120 s above), but not diluted by the 20 healthy minutes.
    expect(delays.length).toBeGreaterThanOrEqual(8);
    delays.sort((a, b) => a - b);
    expect(delays[delays.length >> 1]).toBeLessThanOrEqual(200);
  });
});

describe("userGroupVerdict: the comparison fails only when the user groups agree", () => {
  const reason = "failure rate vs stable: canary worse";
  const rejecting = { ...createGroupTest(0.1), looks: 3, eSum: 2000 };
  const undecided = { ...createGroupTest(0.1), looks: 3, eSum: 3 };
  it.each([
    ["no group tallies (older filters): the block test decides alone", undefined, "fail"],
    ["groups reject too", rejecting, "fail"],
    ["groups do not (yet): held", undecided, "inconclusive"],
  ] as const)("%s", (_name, groups, verdict) => {
    const v = userGroupVerdict(groups, 0.001, reason);
    expect(v.verdict).toBe(verdict);
    expect(v.reason.startsWith(reason)).toBe(true);
    if (groups) expect(v.reason).toContain(`user-group e=${groups.eSum.toPrecision(3)}`);
  });
});
