// Per-entry checks of user-group tallies (controller/telemetry/user-groups-ingest.ts), table-driven:
// each bad group entry is named and dropped, the others are used, a dropped group keeps its last totals.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { VariantTotalsSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import {
  addUserGroupDeltas,
  checkUserGroups,
  overwriteUserGroups,
} from "../../controller/telemetry/user-groups-ingest.js";
import { emptyUserGroups, USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import { emptyStats } from "../../controller/telemetry/windows.js";

const entry = (groups: Array<[number, number, number]>) =>
  create(VariantTotalsSchema, {
    canary: "ns/web",
    variant: "canary",
    userGroups: groups.map(([group, requests, failures]) => ({
      group,
      requests: BigInt(requests),
      failures: BigInt(failures),
    })),
  });

/** Last totals with group 1 at 10 requests / 2 failures. */
function last() {
  const l = emptyUserGroups();
  l.requests[1] = 10;
  l.failures[1] = 2;
  return l;
}

describe("checkUserGroups", () => {
  it.each([
    ["a good entry", [[1, 15, 3]], 100, [1], []],
    ["no groups (an older filter)", [], 100, [], []],
    ["a group outside 0..31", [[32, 1, 0]], 100, [], ["bad_user_group user_groups[0].group 32"]],
    [
      "a repeated group: the first counts",
      [
        [2, 3, 0],
        [2, 9, 0],
      ],
      100,
      [2],
      ["bad_user_group user_groups[1].group 2 repeated"],
    ],
    ["requests going backwards", [[1, 9, 2]], 100, [], ["counter_backwards user_groups[0].requests group 1"]],
    [
      "failures going backwards",
      [[1, 12, 1]],
      100,
      [],
      ["counter_backwards user_groups[0].failures group 1"],
    ],
    [
      "more new failures than new requests",
      [[1, 11, 4]],
      100,
      [],
      ["impossible_counts user_groups[0].failures group 1"],
    ],
    [
      "more new requests than the whole entry's",
      [[5, 8, 0]],
      7,
      [],
      ["impossible_counts user_groups[0].requests group 5"],
    ],
    [
      "one bad entry among good ones",
      [
        [0, 4, 1],
        [1, 3, 0],
        [7, 2, 2],
      ],
      100,
      [0, 7],
      ["counter_backwards user_groups[1].requests group 1"],
    ],
  ] as Array<[string, Array<[number, number, number]>, number, number[], string[]]>)(
    "%s",
    (_name, groups, requestsDelta, usable, dropped) => {
      const check = checkUserGroups(entry(groups), last(), requestsDelta);
      const bits = Array.from({ length: USER_GROUPS }, (_, g) => g).filter(
        (g) => Math.floor(check.usable / 2 ** g) % 2 === 1,
      );
      expect(bits).toEqual(usable);
      expect(check.dropped.map((v) => `${v.reason} ${v.field} ${v.value}`)).toEqual(dropped);
    },
  );

  it("more entries than groups drops them all with one violation", () => {
    const many = Array.from({ length: 1000 }, (_, i): [number, number, number] => [i % 32, 1, 0]);
    const check = checkUserGroups(entry(many), undefined, 10_000);
    expect(check.usable).toBe(0);
    expect(check.dropped).toEqual([
      { reason: "bad_user_group", field: "user_groups", value: "1000 entries (at most 32)" },
    ]);
  });
});

describe("applying the usable groups", () => {
  it("adds each usable group's change and keeps a dropped group's last totals", () => {
    const t = entry([
      [0, 4, 1],
      [1, 3, 0],
      [7, 2, 2],
    ]);
    const before = last();
    const check = checkUserGroups(t, before, 100);
    const into = emptyStats();
    addUserGroupDeltas(into, t, before, check);
    expect(into.userGroups!.requests.slice(0, 8)).toEqual([4, 0, 0, 0, 0, 0, 0, 2]);
    expect(into.userGroups!.failures.slice(0, 8)).toEqual([1, 0, 0, 0, 0, 0, 0, 2]);
    const after = overwriteUserGroups(before, t, check)!;
    expect(after.requests.slice(0, 8)).toEqual([4, 10, 0, 0, 0, 0, 0, 2]);
    expect(after.failures.slice(0, 8)).toEqual([1, 2, 0, 0, 0, 0, 0, 2]);
  });
});
