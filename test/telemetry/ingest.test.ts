import { describe, expect, it } from "vitest";
import { Ingest, type IngestResult } from "../../controller/telemetry/ingest.js";
import { makeReport, type TotalsSpec } from "./fixtures.js";

type Step = {
  pod?: string;
  instance?: string;
  seq: number;
  startMs?: number;
  totals: TotalsSpec[];
  baseline?: TotalsSpec[];
};
type Expect =
  | {
      kind: "accepted";
      requests: number[];
      failures?: number[];
      restart?: boolean;
      baseline?: boolean;
      /** Entries dropped as [reason, field]; none when absent. */
      dropped?: [string, string][];
    }
  | { kind: "ignored"; reason: string };

function run(steps: [Step, Expect][]): void {
  const ingest = new Ingest();
  for (const [i, [step, want]] of steps.entries()) {
    const got: IngestResult = ingest.apply(makeReport(step), 1000 + i);
    expect(got.kind, `step ${i}`).toBe(want.kind);
    if (got.kind === "accepted" && want.kind === "accepted") {
      expect(
        got.deltas.map((d) => d.stats.requests),
        `step ${i}`,
      ).toEqual(want.requests);
      if (want.failures) expect(got.deltas.map((d) => d.stats.failures)).toEqual(want.failures);
      expect(got.restart).toBe(want.restart ?? false);
      expect(got.baseline).toBe(want.baseline ?? false);
      expect(
        got.dropped.map((v) => [v.reason, v.field]),
        `step ${i}`,
      ).toEqual(want.dropped ?? []);
    }
    if (got.kind === "ignored" && want.kind === "ignored") expect(got.reason).toBe(want.reason);
  }
}

const t = (requests: number, failures = 0, latenciesUs: number[] = []): TotalsSpec[] => [
  { requests, failures, latenciesUs },
];

describe("Ingest", () => {
  const table: [string, [Step, Expect][]][] = [
    [
      "first report counts from zero, later ones give deltas",
      [
        [
          { seq: 1, totals: t(10, 1) },
          { kind: "accepted", requests: [10], failures: [1] },
        ],
        [
          { seq: 2, totals: t(25, 3) },
          { kind: "accepted", requests: [15], failures: [2] },
        ],
        [
          { seq: 3, totals: t(25, 3) },
          { kind: "accepted", requests: [] },
        ],
      ],
    ],
    [
      "duplicates and reorders add nothing; a gap loses nothing",
      [
        [
          { seq: 1, totals: t(10) },
          { kind: "accepted", requests: [10] },
        ],
        [
          { seq: 1, totals: t(10) },
          { kind: "ignored", reason: "duplicate" },
        ],
        [
          { seq: 4, totals: t(40) },
          { kind: "accepted", requests: [30] },
        ],
        [
          { seq: 3, totals: t(30) },
          { kind: "ignored", reason: "duplicate" },
        ],
        [
          { seq: 5, totals: t(41) },
          { kind: "accepted", requests: [1] },
        ],
      ],
    ],
    [
      "restart: the new instance's totals are the delta, the old instance is retired",
      [
        [
          { seq: 1, totals: t(10) },
          { kind: "accepted", requests: [10] },
        ],
        [
          { seq: 2, totals: t(50) },
          { kind: "accepted", requests: [40] },
        ],
        [
          { instance: "i2", startMs: 2000, seq: 3, totals: t(7) },
          { kind: "accepted", requests: [7], restart: true },
        ],
        [
          { seq: 3, totals: t(60) },
          { kind: "ignored", reason: "stale_instance" },
        ],
        [
          { instance: "i2", startMs: 2000, seq: 4, totals: t(9) },
          { kind: "accepted", requests: [2] },
        ],
      ],
    ],
    [
      "an instance that started earlier than the current one is stale",
      [
        [
          { instance: "i2", startMs: 5000, seq: 1, totals: t(3) },
          { kind: "accepted", requests: [3] },
        ],
        [
          { instance: "i1", startMs: 1000, seq: 9, totals: t(99) },
          { kind: "ignored", reason: "stale_instance" },
        ],
      ],
    ],
    [
      "unknown pod past its first report (controller restart): baseline, no double count",
      [
        [
          { seq: 7, totals: t(700) },
          { kind: "accepted", requests: [], baseline: true },
        ],
        [
          { seq: 8, totals: t(710) },
          { kind: "accepted", requests: [10] },
        ],
      ],
    ],
    [
      "unknown pod past its first report with a baseline (controller restart): totals − baseline",
      [
        [
          { seq: 7, totals: t(700, 9, [100, 100, 5000]), baseline: t(640, 4, [100, 100]) },
          { kind: "accepted", requests: [60], failures: [5] },
        ],
        [
          { seq: 8, totals: t(710, 9, [100, 100, 5000]) },
          { kind: "accepted", requests: [10], failures: [0] },
        ],
      ],
    ],
    [
      "a baseline equal to the totals counts nothing and is not a fallback",
      [
        [
          { seq: 3, totals: t(50), baseline: t(50) },
          { kind: "accepted", requests: [] },
        ],
      ],
    ],
    [
      "a baseline above the totals is unusable: the totals become the baseline",
      [
        [
          { seq: 7, totals: t(700, 9), baseline: t(701, 4) },
          { kind: "accepted", requests: [], baseline: true },
        ],
        [
          { seq: 8, totals: t(710, 9) },
          { kind: "accepted", requests: [10] },
        ],
      ],
    ],
    [
      "a baseline sketch not subtractable from the totals' is unusable",
      [
        [
          { seq: 7, totals: t(3, 0, [100, 100, 100]), baseline: t(2, 0, [5000, 5000]) },
          { kind: "accepted", requests: [], baseline: true },
        ],
      ],
    ],
    [
      "a non-zero baseline entry missing from the totals is unusable; a zero one is fine",
      [
        [
          { seq: 7, totals: t(30), baseline: [{ requests: 20 }, { variant: "stable", requests: 1 }] },
          { kind: "accepted", requests: [], baseline: true },
        ],
        [
          {
            pod: "b",
            seq: 7,
            totals: t(30),
            baseline: [{ requests: 20 }, { variant: "stable", requests: 0 }],
          },
          { kind: "accepted", requests: [10] },
        ],
      ],
    ],
    [
      "a variant new since the baseline counts from zero",
      [
        [
          { seq: 4, totals: [{ requests: 30 }, { variant: "stable", requests: 8 }], baseline: t(20) },
          { kind: "accepted", requests: [10, 8] },
        ],
      ],
    ],
    [
      "a known instance ignores the baseline (a new stream to the same controller)",
      [
        [
          { seq: 1, totals: t(10) },
          { kind: "accepted", requests: [10] },
        ],
        [
          { seq: 2, totals: t(25), baseline: t(5) },
          { kind: "accepted", requests: [15] },
        ],
        [
          { seq: 3, totals: t(30), baseline: t(99) },
          { kind: "accepted", requests: [5] },
        ],
      ],
    ],
    [
      "a restarted instance (new id, known pod) counts totals − its baseline, else from zero",
      [
        [
          { seq: 1, totals: t(10) },
          { kind: "accepted", requests: [10] },
        ],
        [
          { instance: "i2", startMs: 2000, seq: 5, totals: t(7), baseline: t(3) },
          { kind: "accepted", requests: [4], restart: true },
        ],
        [
          { instance: "i3", startMs: 3000, seq: 5, totals: t(8), baseline: t(9) },
          { kind: "accepted", requests: [8], restart: true },
        ],
      ],
    ],
    [
      "an entry going backwards is dropped and its last totals kept",
      [
        [
          { seq: 1, totals: t(10, 2) },
          { kind: "accepted", requests: [10] },
        ],
        [
          { seq: 2, totals: t(9, 2) },
          { kind: "accepted", requests: [], dropped: [["counter_backwards", "totals[0].requests"]] },
        ],
        [
          { seq: 3, totals: t(12, 1) },
          { kind: "accepted", requests: [], dropped: [["counter_backwards", "totals[0].failures"]] },
        ],
        [
          { seq: 4, totals: t(12, 2) },
          { kind: "accepted", requests: [2] },
        ],
      ],
    ],
    [
      "sketch buckets going backwards drop the entry",
      [
        [
          { seq: 1, totals: t(2, 0, [100, 100]) },
          { kind: "accepted", requests: [2] },
        ],
        [
          { seq: 2, totals: t(3, 0, [100, 200, 300]) },
          { kind: "accepted", requests: [], dropped: [["counter_backwards", "totals[0].latency_us"]] },
        ],
      ],
    ],
    [
      "pods are independent",
      [
        [
          { pod: "a", seq: 1, totals: t(10) },
          { kind: "accepted", requests: [10] },
        ],
        [
          { pod: "b", seq: 1, totals: t(5) },
          { kind: "accepted", requests: [5] },
        ],
        [
          { pod: "a", seq: 2, totals: t(11) },
          { kind: "accepted", requests: [1] },
        ],
      ],
    ],
    [
      "a variant a report no longer carries is forgotten; back, it counts from zero as the filter does",
      [
        [
          { seq: 1, totals: [{ requests: 5 }, { variant: "stable", requests: 8 }] },
          { kind: "accepted", requests: [5, 8] },
        ],
        [
          { seq: 2, totals: [{ requests: 6 }] },
          { kind: "accepted", requests: [1] },
        ],
        [
          { seq: 3, totals: [{ requests: 6 }, { variant: "stable", requests: 9 }] },
          { kind: "accepted", requests: [9] },
        ],
      ],
    ],
  ];
  it.each(table)("%s", (_name, steps) => run(steps));

  it("derives sketch and metric deltas", () => {
    const ingest = new Ingest();
    ingest.apply(makeReport({ seq: 1, totals: [{ requests: 1, latenciesUs: [100], tokens: [10] }] }), 0);
    const res = ingest.apply(
      makeReport({ seq: 2, totals: [{ requests: 3, latenciesUs: [100, 100, 5000], tokens: [10, 20, 30] }] }),
      1,
    );
    expect(res.kind).toBe("accepted");
    if (res.kind !== "accepted") return;
    const d = res.deltas[0]!.stats;
    expect(d.latencyUs.count).toBe(2);
    expect([...d.latencyUs.buckets.values()].sort()).toEqual([1, 1]);
    expect(d.metrics.get("tokens")).toMatchObject({ count: 2, sum: 50 });
  });

  it("tracks routing versions and evicts idle reporters", () => {
    const ingest = new Ingest();
    ingest.apply(makeReport({ pod: "a", seq: 1, routingVersion: 3, totals: [] }), 1000);
    ingest.apply(makeReport({ pod: "b", seq: 1, routingVersion: 4, totals: [] }), 5000);
    expect(ingest.routingVersions()).toEqual(
      new Map([
        ["ns/a", 3],
        ["ns/b", 4],
      ]),
    );
    // Only reporters heard from since a time count as live (a pod gone no longer holds changes back).
    expect(ingest.routingVersions(2000)).toEqual(new Map([["ns/b", 4]]));
    expect(ingest.evictIdle(6000, 2000)).toBe(1);
    expect([...ingest.routingVersions().keys()]).toEqual(["ns/b"]);
  });
});

describe("Ingest: impossible changes", () => {
  it("a saturated sum swinging from +MAX to -MAX is no impossible change: counted, its change saturated", () => {
    const ingest = new Ingest();
    const report = (seq: number, requests: number, sum: number) => {
      const r = makeReport({
        seq,
        totals: [{ requests, tokens: Array.from({ length: requests }, () => 1) }],
      });
      r.totals[0]!.metrics[0]!.sum = sum;
      return r;
    };
    ingest.apply(report(1, 2, Number.MAX_VALUE), 0);
    const swung = ingest.apply(report(2, 5, -Number.MAX_VALUE), 1);
    expect(swung).toMatchObject({ kind: "accepted", dropped: [] });
    if (swung.kind !== "accepted") return;
    expect(swung.deltas[0]!.stats.requests).toBe(3);
    expect(swung.deltas[0]!.stats.metrics.get("tokens")).toMatchObject({ count: 3, sum: -Number.MAX_VALUE });
  });

  it("a change with more failures than requests drops only that entry", () => {
    const ingest = new Ingest();
    const web = (requests: number, failures: number) => ({ requests, failures });
    const report = (seq: number, w: { requests: number; failures: number }, stable: number) => {
      const r = makeReport({
        seq,
        totals: [{ requests: w.requests }, { variant: "stable", requests: stable }],
      });
      // Failures by an upstream-failure flag on 2xx responses: status classes stay consistent.
      r.totals[0]!.failures = BigInt(w.failures);
      return r;
    };
    ingest.apply(report(1, web(10, 0), 10), 0);
    // Cumulatively possible (5 <= 11), but 5 failures among 1 new request are not.
    const bad = ingest.apply(report(2, web(11, 5), 14), 1);
    expect(bad).toMatchObject({
      kind: "accepted",
      dropped: [{ reason: "impossible_counts", field: "totals[0].failures" }],
    });
    expect(bad.kind === "accepted" && bad.deltas.map((d) => [d.variant, d.stats.requests])).toEqual([
      ["stable", 4],
    ]);
    const next = ingest.apply(report(3, web(20, 5), 15), 2);
    expect(
      next.kind === "accepted" && next.deltas.map((d) => [d.variant, d.stats.requests, d.stats.failures]),
    ).toEqual([
      ["canary", 10, 5],
      ["stable", 1, 0],
    ]);
  });
});
