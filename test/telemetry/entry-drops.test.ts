// Per-entry validation end to end through checkEntries + Ingest: a dropped entry never costs the
// Report's other entries, and is neither lost nor counted twice when it later becomes usable.
import { describe, expect, it } from "vitest";
import type { Report } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { type BoundsConfig, checkEntries, DEFAULT_BOUNDS } from "../../controller/telemetry/bounds.js";
import { Ingest } from "../../controller/telemetry/ingest.js";
import { Windows } from "../../controller/telemetry/windows.js";
import { makeReport, type TotalsSpec } from "./fixtures.js";

const known = new Set(["ns/web"]);
const cfg: BoundsConfig = { ...DEFAULT_BOUNDS, isKnownCanary: (id) => known.has(id) };

/** Requests counted per "canary variant" over the applied reports. */
function counter() {
  const ingest = new Ingest();
  const counted = new Map<string, number>();
  const apply = (r: Report) => {
    const res = ingest.apply(r, 0, undefined, checkEntries(r, cfg));
    if (res.kind !== "accepted") throw new Error(res.kind);
    for (const d of res.deltas) {
      const k = `${d.canary} ${d.variant}`;
      counted.set(k, (counted.get(k) ?? 0) + d.stats.requests);
    }
    return res;
  };
  return { apply, counted };
}

const web = (requests: number): TotalsSpec => ({ canary: "ns/web", requests });
const late = (requests: number): TotalsSpec => ({ canary: "ns/late", requests });

describe("dropped entries", () => {
  it("an unknown canary's entry is dropped; the rest of the report counts", () => {
    known.delete("ns/late");
    const c = counter();
    c.apply(makeReport({ seq: 1, totals: [web(10), late(7)] }));
    c.apply(makeReport({ seq: 2, totals: [web(15), late(9)] }));
    expect(c.counted).toEqual(new Map([["ns/web canary", 15]]));
  });

  it("an entry dropped while a reporter is baselined is baselined when it becomes usable, not counted from zero", () => {
    known.delete("ns/late");
    const c = counter();
    // Seq 5 from an unknown pod with no baseline: its totals are the baseline (history not recounted).
    const first = c.apply(makeReport({ seq: 5, totals: [web(100), late(50)] }));
    expect(first).toMatchObject({ baseline: true });
    known.add("ns/late");
    c.apply(makeReport({ seq: 6, totals: [web(110), late(60)] }));
    c.apply(makeReport({ seq: 7, totals: [web(120), late(65)] }));
    expect(c.counted).toEqual(
      new Map([
        ["ns/web canary", 20],
        ["ns/late canary", 5],
      ]),
    );
  });

  it("a totals entry dropped on a usable baseline is later counted from that baseline", () => {
    known.add("ns/late");
    const c = counter();
    const r = makeReport({ seq: 9, totals: [web(30), late(40)], baseline: [web(20), late(35)] });
    r.totals[1]!.failures = 41n; // impossible: dropped, its baseline kept
    c.apply(r);
    c.apply(makeReport({ seq: 10, totals: [web(31), late(42)] }));
    expect(c.counted).toEqual(
      new Map([
        ["ns/web canary", 11],
        ["ns/late canary", 7],
      ]),
    );
  });

  it("a broken baseline entry makes the baseline unusable (no history counted twice)", () => {
    known.add("ns/late");
    const c = counter();
    const r = makeReport({ seq: 9, totals: [web(30), late(40)], baseline: [web(20), late(35)] });
    r.baseline[1]!.status4xx = 3n; // classes no longer sum to requests
    expect(c.apply(r)).toMatchObject({ baseline: true });
    c.apply(makeReport({ seq: 10, totals: [web(31), late(42)] }));
    expect(c.counted).toEqual(
      new Map([
        ["ns/web canary", 1],
        ["ns/late canary", 2],
      ]),
    );
  });

  it("an instance's first report names its bad user-group and slow entries, and counts the rest", () => {
    known.add("ns/web");
    const c = counter();
    const bad: TotalsSpec = {
      canary: "ns/web",
      variant: "stable",
      requests: 10,
      failures: 2,
      userGroups: [
        [0, 6, 1],
        [40, 4, 1], // no such group
      ],
      slow: [
        [0, [1]], // threshold 0
        [150_000, [9]], // more slow requests than group 0's 6
      ],
    };
    const res = c.apply(makeReport({ seq: 1, totals: [web(5), bad] }));
    expect(res.dropped.map((v) => `${v.reason} ${v.field} ${v.value}`)).toEqual([
      "bad_user_group totals[1].user_groups[1].group ns/web stable: 40",
      "bad_slow_threshold totals[1].slow[0].threshold_us ns/web stable: 0",
      "impossible_counts totals[1].slow[1].by_group ns/web stable: threshold 150000 group 0: +9 slow > +6 requests",
    ]);
    expect(c.counted).toEqual(
      new Map([
        ["ns/web canary", 5],
        ["ns/web stable", 10],
      ]),
    );
  });
});

describe("hostile but finite sums", () => {
  it("two reporters' 1.7e308 metric sums saturate in the window instead of becoming Infinity", () => {
    known.add("ns/web");
    const ingest = new Ingest();
    const windows = new Windows();
    const target = (canary: string, variant: string) => windows.statsAt(canary, variant, 5000);
    for (const pod of ["a", "b"]) {
      const r = makeReport({ pod, seq: 1, totals: [{ canary: "ns/web", requests: 1, tokens: [5] }] });
      r.totals[0]!.metrics[0]!.sum = 1.7e308;
      expect(checkEntries(r, cfg)).toEqual([]);
      ingest.apply(r, 5000, target);
    }
    const m = windows.series("ns/web", 0, 10_000)[0]!.variants.get("canary")!.metrics.get("tokens")!;
    expect(m.count).toBe(2);
    expect(m.sum).toBe(Number.MAX_VALUE);
  });
});
