// Ingest's compact, in-place reporter state and its DeltaTarget path (what the server uses): the
// same figures as the returned deltas, no reference kept to a decoded Report, and a dropped
// Report changes nothing even after earlier entries of it were fine.
import { describe, expect, it } from "vitest";
import type { Report } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { Ingest } from "../../controller/telemetry/ingest.js";
import type { VariantStats } from "../../controller/telemetry/types.js";
import { addStats, emptyStats, Windows } from "../../controller/telemetry/windows.js";
import { makeReport, type TotalsSpec } from "./fixtures.js";

/** A mix of canaries, variants, latencies and a custom metric, growing over `seq`. */
function reports(): Report[] {
  const specs = (n: number): TotalsSpec[] => [
    {
      requests: 10 * n,
      failures: n,
      latenciesUs: Array.from({ length: n }, (_, i) => 100 * (i + 1)),
      tokens: Array.from({ length: n }, (_, i) => i + 1),
    },
    { variant: "stable", requests: 5 * n, latenciesUs: [0.5, 300] },
    { canary: "ns/api", requests: n > 2 ? 7 : 0 },
  ];
  return [1, 2, 2, 3, 5, 8].map((n, i) => makeReport({ seq: i + 1, totals: specs(n) }));
}

const key = (canary: string, variant: string) => `${canary} ${variant}`;

function sumOfReturnedDeltas(rs: Report[]): Map<string, VariantStats> {
  const ingest = new Ingest();
  const out = new Map<string, VariantStats>();
  for (const r of rs) {
    const res = ingest.apply(r, 0);
    if (res.kind !== "accepted") throw new Error(res.kind);
    for (const d of res.deltas) {
      const k = key(d.canary, d.variant);
      if (!out.has(k)) out.set(k, emptyStats());
      addStats(out.get(k)!, d.stats);
    }
  }
  return out;
}

describe("Ingest with a DeltaTarget", () => {
  it("adds exactly what the returned deltas sum to, and returns none itself", () => {
    const ingest = new Ingest();
    const into = new Map<string, VariantStats>();
    const target = (canary: string, variant: string) => {
      const k = key(canary, variant);
      if (!into.has(k)) into.set(k, emptyStats());
      return into.get(k)!;
    };
    for (const r of reports()) {
      const res = ingest.apply(r, 0, target);
      expect(res).toMatchObject({ kind: "accepted", deltas: [] });
    }
    const want = sumOfReturnedDeltas(reports());
    expect([...into.keys()].sort()).toEqual(["ns/api canary", "ns/web canary", "ns/web stable"]);
    expect(into).toEqual(want);
    // The totals of the last report, since everything counted from zero.
    expect(into.get("ns/web canary")).toMatchObject({ requests: 80, failures: 8 });
    expect(into.get("ns/web canary")!.latencyUs.count).toBe(8);
    expect(into.get("ns/web canary")!.metrics.get("tokens")).toMatchObject({ count: 8, sum: 36 });
    expect(into.get("ns/web stable")!.latencyUs).toMatchObject({ count: 2, zeroCount: 1 });
  });

  it("is not asked for a target when nothing changed", () => {
    const ingest = new Ingest();
    const asked: string[] = [];
    const target = (canary: string, variant: string) => {
      asked.push(key(canary, variant));
      return emptyStats();
    };
    ingest.apply(makeReport({ seq: 1, totals: [{ requests: 3 }, { variant: "stable", requests: 4 }] }), 0);
    ingest.apply(
      makeReport({ seq: 2, totals: [{ requests: 3 }, { variant: "stable", requests: 6 }] }),
      0,
      target,
    );
    expect(asked).toEqual(["ns/web stable"]);
  });

  it("feeds Windows.statsAt the same stats Windows.add would accumulate", () => {
    const viaTarget = new Windows();
    const viaAdd = new Windows();
    const a = new Ingest();
    const b = new Ingest();
    reports().forEach((r, i) => {
      const ms = 1000 * i + 250;
      a.apply(r, ms, (c, v) => viaTarget.statsAt(c, v, ms));
      const res = b.apply(r, ms);
      if (res.kind !== "accepted") throw new Error(res.kind);
      for (const d of res.deltas) viaAdd.add(d.canary, d.variant, d.stats, ms);
    });
    // Six reports, one of which changes nothing: no window for it.
    expect(viaTarget.series("ns/web", 0, 10_000)).toHaveLength(5);
    expect(viaTarget.series("ns/web", 0, 10_000)).toEqual(viaAdd.series("ns/web", 0, 10_000));
    expect(viaTarget.series("ns/api", 0, 10_000)).toEqual(viaAdd.series("ns/api", 0, 10_000));
  });
});

describe("Ingest state", () => {
  it("keeps copies of the totals, not the decoded Report", () => {
    const ingest = new Ingest();
    const first = makeReport({ seq: 1, totals: [{ requests: 10, latenciesUs: [100, 200] }] });
    ingest.apply(first, 0);
    // A decoder reusing or a caller mutating the message must not change what was recorded.
    first.totals[0]!.requests = 1000n;
    first.totals[0]!.latencyUs!.counts.fill(500n);
    const res = ingest.apply(
      makeReport({ seq: 2, totals: [{ requests: 12, latenciesUs: [100, 200, 200] }] }),
      1,
    );
    expect(res.kind).toBe("accepted");
    if (res.kind !== "accepted") return;
    expect(res.deltas[0]!.stats.requests).toBe(2);
    expect([...res.deltas[0]!.stats.latencyUs.buckets.values()]).toEqual([1]);
  });

  it("an entry dropped for going backwards keeps its last totals; the report's other entries count", () => {
    const ingest = new Ingest();
    const two = (web: number, stable: number): TotalsSpec[] => [
      { requests: web },
      { variant: "stable", requests: stable },
    ];
    ingest.apply(makeReport({ seq: 1, totals: two(10, 10) }), 0);
    const bad = ingest.apply(makeReport({ seq: 2, totals: two(20, 5) }), 1);
    expect(bad).toMatchObject({
      kind: "accepted",
      dropped: [{ reason: "counter_backwards", field: "totals[1].requests" }],
    });
    expect(bad.kind === "accepted" && bad.deltas.map((d) => d.stats.requests)).toEqual([10]);
    const res = ingest.apply(makeReport({ seq: 3, totals: two(25, 12) }), 2);
    expect(res.kind === "accepted" && res.deltas.map((d) => d.stats.requests)).toEqual([5, 2]);
  });

  it("follows a sketch whose bucket set grows and shrinks back to counts of zero", () => {
    const ingest = new Ingest();
    const at = (seq: number, latenciesUs: number[]) =>
      ingest.apply(makeReport({ seq, totals: [{ requests: latenciesUs.length, latenciesUs }] }), seq);
    at(1, [100]);
    const grown = at(2, [100, 100, 5000, 90_000]);
    expect(grown.kind === "accepted" && grown.deltas[0]!.stats.latencyUs.count).toBe(3);
    const same = at(3, [100, 100, 5000, 90_000, 5000]);
    expect(same.kind === "accepted" && [...same.deltas[0]!.stats.latencyUs.buckets.values()]).toEqual([1]);
    // A bucket that disappears is a counter going backwards.
    expect(at(4, [100, 100, 5000, 5000, 5000])).toMatchObject({
      kind: "accepted",
      deltas: [],
      dropped: [{ field: "totals[0].latency_us" }],
    });
  });
});
