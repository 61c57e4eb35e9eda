// The real build/meshcanary.wasm through the sandbox proxy-wasm host: the per-user-group tallies
// (filter/user-groups.ts) as the workers store them for the reporter: a sticky user's requests all
// land in the group the controller computes from the same hash, unkeyed requests are spread by
// counter, pinned requests are in no group, and the groups add up to the variant's totals.
import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ReportSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { stickyBucket } from "../../controller/mesh/sticky-hash.js";
import { stickyUserGroup, USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import type { Headers, ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterHosts } from "./filter-hosts.js";

const CANARY_WEIGHT = 3000;
const CONFIG = JSON.stringify({
  routes: [
    {
      host: "reviews",
      canary: "default/reviews",
      variants: [
        { name: "stable", weight: 10000 - CANARY_WEIGHT },
        { name: "canary", weight: CANARY_WEIGHT },
      ],
      sticky: { header: "x-user-id" },
    },
  ],
});

const startHost = filterHosts();

function newHost(): Promise<ProxyWasmHost> {
  return startHost({ workers: 2, pluginConfig: CONFIG });
}

interface Groups {
  requests: number[];
  failures: number[];
  totalRequests: number;
  totalFailures: number;
}

/** Per variant: the groups and totals of the proxy's cumulative tallies in shared data. */
function readGroups(host: ProxyWasmHost): Map<string, Groups> {
  const out = new Map<string, Groups>();
  const entry = host.sharedData.get("meshcanary.state");
  if (!entry) return out;
  for (const t of fromBinary(ReportSchema, entry.value.subarray(1)).totals) {
    const g: Groups = {
      requests: new Array(USER_GROUPS).fill(0),
      failures: new Array(USER_GROUPS).fill(0),
      totalRequests: Number(t.requests),
      totalFailures: Number(t.failures),
    };
    for (const e of t.userGroups) {
      g.requests[e.group] += Number(e.requests);
      g.failures[e.group] += Number(e.failures);
    }
    out.set(t.variant, g);
  }
  return out;
}

function send(host: ProxyWasmHost, headers: Headers, status: number) {
  host.request({
    request: { headers: [[":authority", "reviews"], ...headers] },
    response: { status, bodyBytes: 1 },
  });
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe("user-group tallies", () => {
  it("puts every request of a sticky user in the group the controller computes, per variant", async () => {
    const h = await newHost();
    const expected = new Map(
      ["stable", "canary"].map((v) => [
        v,
        { requests: new Array(USER_GROUPS).fill(0), failures: new Array(USER_GROUPS).fill(0) },
      ]),
    );
    for (let u = 0; u < 400; u++) {
      const key = `user-${u}`;
      const variant = stickyBucket("default/reviews", key) >= 10000 - CANARY_WEIGHT ? "canary" : "stable";
      const group = stickyUserGroup("default/reviews", key);
      for (let r = 0; r < 1 + (u % 4); r++) {
        const failed = (u * 7 + r) % 5 === 0;
        send(h, [["x-user-id", key]], failed ? 503 : 200);
        expected.get(variant)!.requests[group]++;
        if (failed) expected.get(variant)!.failures[group]++;
      }
    }
    await h.advance(1000);
    const got = readGroups(h);
    for (const variant of ["stable", "canary"]) {
      const g = got.get(variant)!;
      expect(g.requests, variant).toEqual(expected.get(variant)!.requests);
      expect(g.failures, variant).toEqual(expected.get(variant)!.failures);
      expect(sum(g.requests)).toBe(g.totalRequests);
      expect(sum(g.failures)).toBe(g.totalFailures);
    }
    // 400 users over 32 groups: the groups really are spread, not one bucket's worth.
    const used = got.get("stable")!.requests.filter((n, i) => n + got.get("canary")!.requests[i]! > 0);
    expect(used.length).toBeGreaterThan(USER_GROUPS - 3);
  });

  it("spreads unkeyed requests by counter and leaves pinned ones out of every group", async () => {
    const h = await newHost();
    const n = 3200;
    for (let i = 0; i < n; i++) send(h, [], i % 10 === 0 ? 500 : 200);
    for (let i = 0; i < 50; i++) send(h, [["x-meshcanary-pin", "canary"]], 503);
    await h.advance(1000);
    const got = readGroups(h);
    const stable = got.get("stable")!;
    const canary = got.get("canary")!;
    // Each worker's counter deals its requests round-robin: over both variants, every group gets
    // n/32 within one per worker.
    const both = stable.requests.map((r, i) => r + canary.requests[i]!);
    for (const count of both) expect(Math.abs(count - n / USER_GROUPS)).toBeLessThanOrEqual(2);
    expect(sum(stable.requests)).toBe(stable.totalRequests);
    expect(sum(stable.failures)).toBe(stable.totalFailures);
    // The 50 pinned canary requests are in the totals but in no group.
    expect(canary.totalRequests - sum(canary.requests)).toBe(50);
    expect(canary.totalFailures - sum(canary.failures)).toBe(50);
  });
});
