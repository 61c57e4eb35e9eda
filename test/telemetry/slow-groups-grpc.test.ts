/**
 * Per-user-group slow counts (VariantTotals.slow) through the telemetry server over real gRPC: each
 * threshold's change per group lands in the windows' UserGroupStats.slow exactly, a threshold new
 * since the last report counts whole, one dropped and re-added counts from 0, a hostile report's bad
 * slow entries are dropped with a violation naming the field and value while everything else in it
 * counts, and a first report carrying a baseline (controller restart) counts totals − baseline.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { Report } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import { telemetryOverGrpc } from "./grpc-harness.js";
import { makeReport, type TotalsSpec } from "./fixtures.js";
import { type RawConn, seriesTotal } from "./raw-client.js";

const TOKEN = "s3cret";
/** Warnings the server logged, parsed. */
const warnings: { reason: string; field: string; value: string }[] = [];
const logger = pino(
  { level: "warn" },
  new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line) warnings.push(JSON.parse(line));
      done();
    },
  }),
);
const t = telemetryOverGrpc({ token: TOKEN, isKnownCanary: (id) => id.startsWith("ns/"), logger });

function connect(): RawConn {
  return t.connect(TOKEN);
}

const sendAll = (c: RawConn, reports: Report[]) => t.sendAll(c, reports);

/** Per threshold, the slow counts per group of a (canary, variant) summed over its windows. */
function slowOf(canary: string, variant: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const w of t.server.reader.series(canary, 0, Number.MAX_SAFE_INTEGER)) {
    for (const [us, counts] of w.variants.get(variant)?.userGroups?.slow ?? []) {
      const into = out.get(us) ?? new Array<number>(USER_GROUPS).fill(0);
      counts.forEach((n, g) => {
        into[g]! += n;
      });
      out.set(us, into);
    }
  }
  return out;
}

/** A 32-group array with `counts` at the given groups. */
function groups(counts: Record<number, number>): number[] {
  const out = new Array<number>(USER_GROUPS).fill(0);
  for (const [g, n] of Object.entries(counts)) out[Number(g)] = n;
  return out;
}

function entry(
  canary: string,
  requests: number,
  g0: number,
  g3: number,
  slow: TotalsSpec["slow"],
): TotalsSpec {
  return {
    canary,
    requests,
    userGroups: [
      [0, g0, 0],
      [3, g3, 0],
    ],
    slow,
  };
}

function droppedSince(before: Record<string, number>): (reason: string) => number {
  const after = t.server.stats().droppedEntries;
  return (k) => (after[k] ?? 0) - (before[k] ?? 0);
}

describe("slow counts over gRPC", () => {
  it("counts each threshold's change per group; a new threshold counts whole, a re-added one from 0", async () => {
    const c = connect();
    const canary = "ns/slow";
    await sendAll(c, [
      makeReport({ pod: "sg-1", seq: 1, totals: [entry(canary, 10, 6, 4, [[50_000, [2, 0, 0, 1]]])] }),
      // 120 ms appears (installed since the last report): its whole count is the change.
      makeReport({
        pod: "sg-1",
        seq: 2,
        totals: [
          entry(canary, 16, 9, 7, [
            [50_000, [3, 0, 0, 3]],
            [120_000, [1, 0, 0, 2]],
          ]),
        ],
      }),
      // 50 ms leaves the table, then comes back counting from 0.
      makeReport({ pod: "sg-1", seq: 3, totals: [entry(canary, 20, 11, 9, [[120_000, [1, 0, 0, 2]]])] }),
      makeReport({
        pod: "sg-1",
        seq: 4,
        totals: [
          entry(canary, 22, 12, 10, [
            [120_000, [2, 0, 0, 2]],
            [50_000, [1, 0, 0, 1]],
          ]),
        ],
      }),
    ]);
    const slow = slowOf(canary, "canary");
    expect([...slow.keys()].sort()).toEqual([120_000, 50_000].sort());
    expect(slow.get(50_000)).toEqual(groups({ 0: 4, 3: 4 }));
    expect(slow.get(120_000)).toEqual(groups({ 0: 2, 3: 2 }));
    expect(seriesTotal(t.server.reader, canary, "canary", "requests")).toBe(22);
  });

  it("drops each bad slow entry with a violation naming field and value; the rest of the report counts", async () => {
    const c = connect();
    const canary = "ns/slow-bad";
    const before = { ...t.server.stats().droppedEntries };
    const logged = warnings.length;
    const twoGroups = (requests: number, slow: TotalsSpec["slow"], variant = "canary"): TotalsSpec => ({
      canary,
      variant,
      requests,
      userGroups: [
        [0, requests / 2, 0],
        [1, requests / 2, 0],
      ],
      slow,
    });
    await sendAll(c, [
      makeReport({
        pod: "sg-2",
        seq: 1,
        totals: [twoGroups(10, [[50_000, [1, 1]]]), twoGroups(4, [[30_000, [1]]], "stable")],
      }),
      makeReport({
        pod: "sg-2",
        seq: 2,
        totals: [
          twoGroups(20, [
            [50_000, [0, 2]], // group 0 goes backwards (1 -> 0)
            [0, [1]], // threshold 0
            [70_000, new Array(33).fill(0)], // 33 groups
            [80_000, [6, 0]], // group 0: +6 slow, +5 requests
            [90_000, [2, 3]], // good
            [90_000, [1, 1]], // repeated
          ]),
          twoGroups(8, [[30_000, [2, 1]]], "stable"),
        ],
      }),
      // The backwards entry kept its last good counts (1, 1): this change is +1, +1.
      makeReport({
        pod: "sg-2",
        seq: 3,
        totals: [twoGroups(24, [[50_000, [2, 2]]]), twoGroups(8, [[30_000, [2, 1]]], "stable")],
      }),
    ]);
    const slow = slowOf(canary, "canary");
    expect(slow.get(90_000)).toEqual(groups({ 0: 2, 1: 3 }));
    expect(slow.get(50_000)).toEqual(groups({ 0: 2, 1: 2 }));
    for (const us of [0, 70_000, 80_000]) expect(slow.has(us), `${us}`).toBe(false);
    expect(slowOf(canary, "stable").get(30_000)).toEqual(groups({ 0: 2, 1: 1 }));
    expect(seriesTotal(t.server.reader, canary, "canary", "requests")).toBe(24);
    expect(seriesTotal(t.server.reader, canary, "stable", "requests")).toBe(8);
    const delta = droppedSince(before);
    expect(delta("counter_backwards")).toBe(1);
    expect(delta("bad_slow_threshold")).toBe(3);
    expect(delta("impossible_counts")).toBe(1);
    expect(warnings.slice(logged)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          reason: "counter_backwards",
          field: "totals[0].slow[0].by_group",
          value: `${canary} canary: threshold 50000 group 0: 0 < 1`,
        }),
        expect.objectContaining({ reason: "bad_slow_threshold", field: "totals[0].slow[1].threshold_us" }),
        expect.objectContaining({
          reason: "bad_slow_threshold",
          field: "totals[0].slow[2].by_group",
          value: `${canary} canary: 33 groups (at most 32)`,
        }),
        expect.objectContaining({
          reason: "impossible_counts",
          field: "totals[0].slow[3].by_group",
          value: `${canary} canary: threshold 80000 group 0: +6 slow > +5 requests`,
        }),
        expect.objectContaining({ reason: "bad_slow_threshold", field: "totals[0].slow[5].threshold_us" }),
      ]),
    );
  });

  it("drops all of an entry's slow counts past 8 thresholds, with one violation; its requests count", async () => {
    const c = connect();
    const canary = "ns/slow-many";
    const before = { ...t.server.stats().droppedEntries };
    const nine: TotalsSpec["slow"] = Array.from({ length: 9 }, (_, i) => [1000 * (i + 1), [1]]);
    await sendAll(c, [
      makeReport({ pod: "sg-4", seq: 1, totals: [{ canary, requests: 3, userGroups: [[0, 3, 0]] }] }),
      makeReport({
        pod: "sg-4",
        seq: 2,
        totals: [{ canary, requests: 6, userGroups: [[0, 6, 0]], slow: nine }],
      }),
    ]);
    expect(slowOf(canary, "canary").size).toBe(0);
    expect(seriesTotal(t.server.reader, canary, "canary", "requests")).toBe(6);
    expect(droppedSince(before)("bad_slow_threshold")).toBe(1);
  });

  it("counts totals − baseline from a first report carrying one (a reconnect after a controller restart)", async () => {
    const c = connect();
    const canary = "ns/slow-base";
    await sendAll(c, [
      makeReport({
        pod: "sg-3",
        seq: 7,
        totals: [
          entry(canary, 30, 18, 12, [
            [50_000, [5, 0, 0, 4]],
            [120_000, [1, 0, 0, 0]],
          ]),
        ],
        // The previous controller got up to here; 120 ms was installed after it.
        baseline: [entry(canary, 20, 12, 8, [[50_000, [3, 0, 0, 1]]])],
      }),
      makeReport({
        pod: "sg-3",
        seq: 8,
        totals: [
          entry(canary, 32, 19, 13, [
            [50_000, [6, 0, 0, 4]],
            [120_000, [1, 0, 0, 1]],
          ]),
        ],
      }),
    ]);
    const slow = slowOf(canary, "canary");
    expect(slow.get(50_000)).toEqual(groups({ 0: 3, 3: 3 }));
    expect(slow.get(120_000)).toEqual(groups({ 0: 1, 3: 1 }));
    expect(seriesTotal(t.server.reader, canary, "canary", "requests")).toBe(12);
  });
});
