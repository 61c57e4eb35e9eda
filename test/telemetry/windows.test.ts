import { describe, expect, it } from "vitest";
import {
  addToBucket,
  emptySketch,
  MAX_ACCUMULATED_BUCKETS,
  record,
} from "../../controller/telemetry/sketch.js";
import type { VariantStats } from "../../controller/telemetry/types.js";
import { CLOSED_WINDOW_BUCKETS, emptyStats, Windows } from "../../controller/telemetry/windows.js";

function delta(requests: number, failures = 0, latencies: number[] = []): VariantStats {
  const s = emptyStats();
  s.requests = requests;
  s.failures = failures;
  s.latencyUs = emptySketch();
  for (const v of latencies) record(s.latencyUs, v);
  return s;
}

describe("Windows", () => {
  it("sums deltas into 1-second windows per canary and variant", () => {
    const w = new Windows();
    w.add("ns/web", "canary", delta(2, 1, [100]), 10_100);
    w.add("ns/web", "canary", delta(3, 0, [100, 200]), 10_900);
    w.add("ns/web", "stable", delta(5), 10_500);
    w.add("ns/web", "canary", delta(1), 11_000);
    w.add("ns/other", "canary", delta(9), 10_000);
    const s = w.series("ns/web", 0, 20_000);
    expect(s.map((p) => p.startMs)).toEqual([10_000, 11_000]);
    const first = s[0]!.variants;
    expect(first.get("canary")).toMatchObject({ requests: 5, failures: 1 });
    expect(first.get("canary")!.latencyUs.count).toBe(3);
    expect(first.get("stable")!.requests).toBe(5);
    expect(s[1]!.variants.get("canary")!.requests).toBe(1);
  });

  it("selects [from, to) and omits empty windows", () => {
    const w = new Windows();
    for (const ms of [1000, 2000, 5000, 6000]) w.add("c", "v", delta(1), ms);
    expect(w.series("c", 2000, 6000).map((p) => p.startMs)).toEqual([2000, 5000]);
    expect(w.series("c", 2500, 4999)).toEqual([]);
    expect(w.series("unknown", 0, 1e9)).toEqual([]);
  });

  it("keeps order when the clock steps back", () => {
    const w = new Windows();
    w.add("c", "v", delta(1), 5000);
    w.add("c", "v", delta(2), 3000);
    w.add("c", "v", delta(4), 5500);
    w.add("c", "v", delta(8), 3200);
    const s = w.series("c", 0, 10_000);
    expect(s.map((p) => [p.startMs, p.variants.get("v")!.requests])).toEqual([
      [3000, 10],
      [5000, 5],
    ]);
  });

  it("expires windows older than the history", () => {
    const w = new Windows(10_000);
    w.add("c", "v", delta(1), 1000);
    w.add("c", "v", delta(1), 5000);
    w.add("c", "v", delta(1), 14_000);
    expect(w.series("c", 0, 1e9).map((p) => p.startMs)).toEqual([5000, 14_000]);
    w.add("gone", "v", delta(1), 1000);
    w.expireAll(30_000);
    expect(w.series("c", 0, 1e9)).toEqual([]);
    expect(w.series("gone", 0, 1e9)).toEqual([]);
  });
});

describe("window sketch bounds", () => {
  it("an accumulating sketch never passes MAX_ACCUMULATED_BUCKETS; its upper quantiles stay exact", () => {
    const s = emptySketch();
    for (let i = 0; i < 5000; i++) addToBucket(s, i, 1);
    expect(s.buckets.size).toBeLessThanOrEqual(MAX_ACCUMULATED_BUCKETS);
    expect([...s.buckets.values()].reduce((a, b) => a + b, 0)).toBe(5000);
    // The highest buckets are untouched, so p99 reads the same bucket as without the cap.
    expect(s.buckets.get(4999)).toBe(1);
    expect(s.buckets.get(4950)).toBe(1);
  });

  it("closed windows are collapsed, and the oldest to one bucket per sketch past the budget", () => {
    const w = new Windows(60 * 60 * 1000, 200);
    for (let sec = 0; sec < 10; sec++) {
      const stats = w.statsAt("ns/c", "canary", sec * 1000);
      for (let i = 0; i < 100; i++) addToBucket(stats.latencyUs, i + sec, 1);
      stats.latencyUs.count += 100;
    }
    expect(w.closedBucketCount()).toBeLessThanOrEqual(200);
    const points = w.series("ns/c", 0, 10_000);
    expect(points).toHaveLength(10);
    // Every window keeps its exact count; old ones in one bucket, recent ones in CLOSED_WINDOW_BUCKETS.
    for (const p of points) {
      const s = p.variants.get("canary")!.latencyUs;
      expect([...s.buckets.values()].reduce((a, b) => a + b, 0)).toBe(100);
    }
    expect(points[0]!.variants.get("canary")!.latencyUs.buckets.size).toBe(1);
    expect(points[8]!.variants.get("canary")!.latencyUs.buckets.size).toBe(CLOSED_WINDOW_BUCKETS);
  });
});
