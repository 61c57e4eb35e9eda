// Per-entry checks of slow counts (controller/telemetry/slow-groups-ingest.ts), table-driven: each
// bad threshold entry is named and dropped, the others are used, a dropped threshold keeps its last
// counts and one the report no longer carries is forgotten.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { VariantTotalsSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { addSlowDeltas, checkSlow, overwriteSlow } from "../../controller/telemetry/slow-groups-ingest.js";
import { emptyUserGroups, USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import { checkUserGroups } from "../../controller/telemetry/user-groups-ingest.js";
import { emptyStats } from "../../controller/telemetry/windows.js";

/** An entry whose groups 0 and 1 have 10 requests each (last: 5 each), with these slow counts. */
const entry = (slow: Array<[bigint, bigint[]]>) =>
  create(VariantTotalsSchema, {
    canary: "ns/web",
    variant: "canary",
    requests: 20n,
    userGroups: [
      { group: 0, requests: 10n },
      { group: 1, requests: 10n },
    ],
    slow: slow.map(([thresholdUs, byGroup]) => ({ thresholdUs, byGroup })),
  });

function lastGroups() {
  const g = emptyUserGroups();
  g.requests[0] = 5;
  g.requests[1] = 5;
  return g;
}

/** checkSlow as ingest makes it: with the entry's user-group check against 10 requests before. */
const slowCheck = (t: ReturnType<typeof entry>, last: Map<number, number[]> | undefined) =>
  checkSlow(t, lastGroups(), checkUserGroups(t, lastGroups(), Number(t.requests) - 10), last);

const padded = (xs: number[]) => [...xs, ...new Array<number>(USER_GROUPS - xs.length).fill(0)];
const lastSlow = () => new Map([[50_000, padded([2, 2])]]);

describe("checkSlow", () => {
  it.each([
    ["a good entry", [[50_000n, [4n, 3n]]], [0], []],
    ["a new threshold: its whole count is the change", [[70_000n, [5n, 5n]]], [0], []],
    ["no slow counts (an older filter)", [], [], []],
    ["threshold 0", [[0n, [1n]]], [], ["bad_slow_threshold slow[0].threshold_us 0"]],
    [
      "a threshold beyond 2^53",
      [[2n ** 53n, [1n]]],
      [],
      [`bad_slow_threshold slow[0].threshold_us ${2n ** 53n}`],
    ],
    [
      "33 groups",
      [[50_000n, new Array(33).fill(0n)]],
      [],
      ["bad_slow_threshold slow[0].by_group 33 groups (at most 32)"],
    ],
    [
      "a count beyond 2^53",
      [[70_000n, [2n ** 53n]]],
      [],
      [`counter_range slow[0].by_group threshold 70000 group 0: ${2n ** 53n}`],
    ],
    [
      "a count going backwards",
      [[50_000n, [1n, 3n]]],
      [],
      ["counter_backwards slow[0].by_group threshold 50000 group 0: 1 < 2"],
    ],
    [
      "a group left out after counting (back to 0)",
      [[50_000n, [3n]]],
      [],
      ["counter_backwards slow[0].by_group threshold 50000 group 1: 0 < 2"],
    ],
    [
      "more slow than the group's new requests",
      [[50_000n, [8n, 2n]]],
      [],
      ["impossible_counts slow[0].by_group threshold 50000 group 0: +6 slow > +5 requests"],
    ],
    [
      "slow in a group with no new requests",
      [[70_000n, [0n, 0n, 1n]]],
      [],
      ["impossible_counts slow[0].by_group threshold 70000 group 2: +1 slow > +0 requests"],
    ],
    [
      "a repeated threshold: the first counts",
      [
        [50_000n, [3n, 3n]],
        [50_000n, [4n, 4n]],
      ],
      [0],
      ["bad_slow_threshold slow[1].threshold_us 50000 repeated"],
    ],
  ] as [string, Array<[bigint, bigint[]]>, number[], string[]][])("%s", (_name, slow, usable, dropped) => {
    const check = slowCheck(entry(slow), lastSlow());
    expect(slow.map((_, i) => i).filter((i) => Math.floor(check.usable / 2 ** i) % 2 === 1)).toEqual(usable);
    expect(check.dropped.map((v) => `${v.reason} ${v.field} ${v.value}`)).toEqual(dropped);
  });

  it("drops every entry past 8 thresholds with one violation", () => {
    const nine = Array.from({ length: 9 }, (_, i) => [BigInt(1000 * (i + 1)), [1n]] as [bigint, bigint[]]);
    const check = slowCheck(entry(nine), undefined);
    expect(check.usable).toBe(0);
    expect(check.dropped).toEqual([
      { reason: "bad_slow_threshold", field: "slow", value: "9 entries (at most 8)" },
    ]);
    expect(overwriteSlow(lastSlow(), entry(nine), check)).toEqual(lastSlow());
  });

  it("adds the usable entries' change, keeps a dropped one's last counts and forgets one not carried", () => {
    const t = entry([
      [50_000n, [1n, 3n]], // backwards in group 0: dropped
      [70_000n, [2n]], // new: counts whole
      [90_000n, []], // new, none slower: present with zeros
    ]);
    const before = new Map([...lastSlow(), [120_000, padded([1])]]);
    const check = slowCheck(t, before);
    const into = emptyStats();
    addSlowDeltas(into, t, before, check);
    expect([...(into.userGroups?.slow?.keys() ?? [])]).toEqual([70_000, 90_000]);
    expect(into.userGroups!.slow!.get(70_000)).toEqual(padded([2]));
    expect(into.userGroups!.slow!.get(90_000)).toEqual(padded([]));
    const after = overwriteSlow(before, t, check)!;
    expect([...after.keys()].sort()).toEqual([50_000, 70_000, 90_000]);
    expect(after.get(50_000)).toEqual(padded([2, 2]));
    expect(overwriteSlow(after, entry([]), slowCheck(entry([]), after))).toBeUndefined();
  });
});
