/**
 * Per-user-group tallies through the telemetry server over real gRPC: accepted into the windows as
 * deltas, each bad group entry dropped and counted while the entry's other groups and the Report's
 * other entries count, and Reports from filters without groups accepted as before.
 */
import { describe, expect, it } from "vitest";
import type { Report } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { telemetryOverGrpc } from "./grpc-harness.js";
import { makeReport } from "./fixtures.js";
import { type RawConn, seriesTotal } from "./raw-client.js";

const TOKEN = "s3cret";
const t = telemetryOverGrpc({ token: TOKEN, isKnownCanary: (id) => id.startsWith("ns/") });

function connect(): RawConn {
  return t.connect(TOKEN);
}

const sendAll = (c: RawConn, reports: Report[]) => t.sendAll(c, reports);

/** Requests and failures per user group of a (canary, variant) summed over its windows. */
function groupsOf(canary: string, variant: string): { requests: number[]; failures: number[] } | undefined {
  let out: { requests: number[]; failures: number[] } | undefined;
  for (const w of t.server.reader.series(canary, 0, Number.MAX_SAFE_INTEGER)) {
    const g = w.variants.get(variant)?.userGroups;
    if (!g) continue;
    out ??= { requests: g.requests.map(() => 0), failures: g.failures.map(() => 0) };
    g.requests.forEach((n, i) => {
      out!.requests[i]! += n;
    });
    g.failures.forEach((n, i) => {
      out!.failures[i]! += n;
    });
  }
  return out;
}

describe("user-group tallies over gRPC", () => {
  it("counts each group's change since the last report", async () => {
    const c = connect();
    await sendAll(c, [
      makeReport({
        pod: "ug-1",
        seq: 1,
        totals: [
          {
            canary: "ns/ug",
            requests: 10,
            failures: 2,
            userGroups: [
              [0, 6, 1],
              [31, 4, 1],
            ],
          },
        ],
      }),
      makeReport({
        pod: "ug-1",
        seq: 2,
        totals: [
          {
            canary: "ns/ug",
            requests: 15,
            failures: 3,
            userGroups: [
              [0, 8, 1],
              [5, 2, 1],
              [31, 5, 1],
            ],
          },
        ],
      }),
    ]);
    const g = groupsOf("ns/ug", "canary")!;
    expect([g.requests[0], g.requests[5], g.requests[31]]).toEqual([8, 2, 5]);
    expect([g.failures[0], g.failures[5], g.failures[31]]).toEqual([1, 1, 1]);
    expect(seriesTotal(t.server.reader, "ns/ug", "canary", "requests")).toBe(15);
  });

  it("drops a bad group entry and counts it; the entry's other groups and the report's other entries count", async () => {
    const c = connect();
    const before = { ...t.server.stats().droppedEntries };
    await sendAll(c, [
      makeReport({
        pod: "ug-2",
        seq: 1,
        totals: [
          {
            canary: "ns/ug-bad",
            requests: 10,
            failures: 1,
            userGroups: [
              [1, 5, 0],
              [2, 5, 1],
            ],
          },
          { canary: "ns/ug-bad", variant: "stable", requests: 4, userGroups: [[3, 4, 0]] },
        ],
      }),
      makeReport({
        pod: "ug-2",
        seq: 2,
        totals: [
          {
            canary: "ns/ug-bad",
            requests: 20,
            failures: 2,
            // group 40 does not exist, group 2 is repeated, group 1 goes backwards, group 4 has
            // more failures than requests; group 7 is good.
            userGroups: [
              [40, 1, 0],
              [2, 7, 1],
              [2, 9, 9],
              [1, 3, 0],
              [4, 1, 2],
              [7, 3, 1],
            ],
          },
          { canary: "ns/ug-bad", variant: "stable", requests: 9, userGroups: [[3, 9, 0]] },
        ],
      }),
    ]);
    const canary = groupsOf("ns/ug-bad", "canary")!;
    expect(canary.requests.slice(0, 8)).toEqual([0, 5, 7, 0, 0, 0, 0, 3]);
    expect(canary.failures.slice(0, 8)).toEqual([0, 0, 1, 0, 0, 0, 0, 1]);
    expect(groupsOf("ns/ug-bad", "stable")!.requests[3]).toBe(9);
    expect(seriesTotal(t.server.reader, "ns/ug-bad", "canary", "requests")).toBe(20);
    const after = t.server.stats().droppedEntries;
    const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    expect(delta("bad_user_group")).toBe(2);
    expect(delta("counter_backwards")).toBe(1);
    expect(delta("impossible_counts")).toBe(1);
  });

  it("accepts reports without groups (older filters): totals count, no group tallies appear", async () => {
    const c = connect();
    await sendAll(c, [
      makeReport({ pod: "ug-3", seq: 1, totals: [{ canary: "ns/ug-old", requests: 7, failures: 1 }] }),
      makeReport({ pod: "ug-3", seq: 2, totals: [{ canary: "ns/ug-old", requests: 9, failures: 1 }] }),
    ]);
    expect(seriesTotal(t.server.reader, "ns/ug-old", "canary", "requests")).toBe(9);
    expect(groupsOf("ns/ug-old", "canary")).toBeUndefined();
  });
});
