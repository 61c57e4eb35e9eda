/**
 * The simulator's user classes (bench/traffic-models/world.ts): a class's requests come from its
 * own users only, each of whom stays on the variant the filter's sticky hash gives it, and carry the
 * class's latency and metric factors. Class values are made 1,000× larger, so a sketch count above a
 * threshold between the two populations counts exactly the class's requests.
 */
import { describe, expect, it } from "vitest";
import { World, type WorldSpec } from "../../bench/traffic-models/world.js";
import { BUCKETS, stickyBucket } from "../../controller/mesh/sticky-hash.js";
import { countAbove, quantile } from "../../controller/telemetry/sketch.js";
import { stickyUserGroup } from "../../controller/telemetry/user-groups.js";

const USERS = 2000;
const RPS = 400;
const SECONDS = 300;
const SEED = 11;

const spec: WorldSpec = {
  rps: RPS,
  baseFailure: 0,
  stablePods: 2,
  users: { count: USERS, badShare: 0, badFailure: 0 },
  userClasses: [{ share: 0.02, latencyFactor: 1000, metricFactor: 1000 }],
  latency: { medianMs: 10, sigma: 0.3, gcPerPodPerSecond: 0, gcMs: 0, gcShare: 0 },
  metric: { name: "tokens", median: 10, sigma: 0.3 },
};

/** Class users (the first 2% by index, there being no failure-prone users) on the canary at `weight`. */
function classUsersOnCanary(weight: number): number {
  const cut = BUCKETS - Math.round(weight * BUCKETS);
  let n = 0;
  for (let i = 0; i < USERS * 0.02; i++) if (stickyBucket(`cohort-${SEED}`, `user-${i}`) >= cut) n++;
  return n;
}

describe("traffic world: user classes", () => {
  it.each([0.05, 0.25])("at weight %s, class requests follow the class users' sticky variants", (weight) => {
    const world = new World(spec, SEED);
    for (let t = 0; t < SECONDS; t++) world.step(t, weight);
    const onCanary = classUsersOnCanary(weight);
    const perUser = (RPS / USERS) * SECONDS;
    for (const [variant, users] of [
      ["canary", onCanary],
      ["stable", USERS * 0.02 - onCanary],
    ] as const) {
      let requests = 0;
      let slow = 0;
      let heavy = 0;
      let metricCount = 0;
      let ordinaryMedianMs = 0;
      const points = world.windows.series(world.canaryId, 0, SECONDS * 1000);
      for (const p of points) {
        const s = p.variants.get(variant);
        if (!s) continue;
        const m = s.metrics.get("tokens")!;
        requests += s.requests;
        slow += countAbove(s.latencyUs, 1_000_000);
        heavy += countAbove(m.sketch, 1000);
        metricCount += m.count;
      }
      const last = points.at(-1)!.variants.get(variant)!;
      ordinaryMedianMs = quantile(last.latencyUs, 0.5) / 1000;
      expect(metricCount).toBe(requests);
      expect(heavy).toBe(slow);
      const expected = users * perUser;
      if (users === 0) expect(slow).toBe(0);
      else expect(Math.abs(slow - expected)).toBeLessThan(5 * Math.sqrt(expected));
      expect(ordinaryMedianMs).toBeGreaterThan(8);
      expect(ordinaryMedianMs).toBeLessThan(12.5);
    }
  });
});

/** User groups holding class users on `variant` at `weight`. */
function classGroups(variant: "stable" | "canary", weight: number): Set<number> {
  const cut = BUCKETS - Math.round(weight * BUCKETS);
  const out = new Set<number>();
  for (let i = 0; i < USERS * 0.02; i++) {
    const key = `user-${i}`;
    const onCanary = stickyBucket(`cohort-${SEED}`, key) >= cut;
    if (onCanary === (variant === "canary")) out.add(stickyUserGroup(`cohort-${SEED}`, key));
  }
  return out;
}

describe("traffic world: slow counts per user group (the filter's tally for the directive's thresholds)", () => {
  const weight = 0.25;
  const first = { stable: 1_000_000, canary: 1_200_000 };
  const second = { stable: 900_000, canary: 1_080_000 };
  const thresholds = (t: typeof first) => [
    { variant: "stable", thresholdUs: t.stable },
    { variant: "canary", thresholdUs: t.canary },
  ];
  const world = new World(spec, SEED);
  for (let t = 0; t < 120; t++) {
    if (t === 10) world.setSlowThresholds(thresholds(first));
    if (t === 60) world.setSlowThresholds(thresholds(second));
    world.step(t, weight);
  }
  const points = world.windows.series(world.canaryId, 0, 120 * 1000);

  it("none before thresholds are installed, then each arm's at exactly its own threshold", () => {
    for (const p of points) {
      for (const variant of ["stable", "canary"] as const) {
        const keys = [...(p.variants.get(variant)?.userGroups?.slow?.keys() ?? [])];
        const t = p.startMs / 1000;
        expect(keys).toEqual(t < 10 ? [] : [(t < 60 ? first : second)[variant]]);
      }
    }
  });

  it.each(["stable", "canary"] as const)(
    "%s: a window's counts are its class users' requests, in their user groups only",
    (variant) => {
      const groups = classGroups(variant, weight);
      let total = 0;
      for (const p of points.filter((x) => x.startMs >= 10_000)) {
        const s = p.variants.get(variant)!;
        const [counts] = [...s.userGroups!.slow!.values()];
        const sum = counts!.reduce((a, b) => a + b, 0);
        // Class requests are ~10 s, the others ~10 ms: the sketch separates them exactly.
        expect(sum).toBe(countAbove(s.latencyUs, 1_000_000));
        counts!.forEach((n, g) => {
          if (n > 0) expect(groups.has(g)).toBe(true);
        });
        total += sum;
      }
      expect(total).toBeGreaterThan(0);
    },
  );
});
