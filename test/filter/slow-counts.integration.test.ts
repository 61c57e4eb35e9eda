// The real build/meshcanary.wasm through the sandbox proxy-wasm host: slow thresholds from plugin
// configuration (`slowThresholds`, the Directive's Route.slow_thresholds) count, per user group, the
// requests of their variant slower than them, as the workers store them for the reporter; pinned
// requests count in no group, a request exactly at the threshold is not slower. A configuration with
// a bad threshold is refused naming the field.
import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ReportSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { stickyBucket } from "../../controller/mesh/sticky-hash.js";
import { stickyUserGroup, USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import type { ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterHosts } from "./filter-hosts.js";
import { latencyClock } from "../helpers/latency-clock.js";

const CANARY_WEIGHT = 5000;
const THRESHOLDS = [
  { variant: "stable", thresholdUs: 20_000 },
  { variant: "stable", thresholdUs: 90_000 },
  { variant: "canary", thresholdUs: 50_000 },
];

function config(slowThresholds: unknown): string {
  return JSON.stringify({
    routes: [
      {
        host: "reviews",
        canary: "default/reviews",
        variants: [
          { name: "stable", weight: 10000 - CANARY_WEIGHT },
          { name: "canary", weight: CANARY_WEIGHT },
        ],
        sticky: { header: "x-user-id" },
        slowThresholds,
      },
    ],
  });
}

const startHost = filterHosts();

/** Per "variant threshold", the per-group slow counts in the proxy's shared totals. */
function stateSlow(host: ProxyWasmHost): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const entry = host.sharedData.get("meshcanary.state");
  if (!entry) return out;
  for (const t of fromBinary(ReportSchema, entry.value.subarray(1)).totals) {
    for (const s of t.slow) {
      const counts = new Array<number>(USER_GROUPS).fill(0);
      s.byGroup.forEach((n, g) => {
        counts[g] = Number(n);
      });
      out.set(`${t.variant} ${s.thresholdUs}`, counts);
    }
  }
  return out;
}

describe("slow counts per user group", () => {
  it("counts each variant's requests above each of its thresholds in the user's group", async () => {
    const clock = latencyClock();
    const h = await startHost({ workers: 2, pluginConfig: config(THRESHOLDS), clock });
    const expected = new Map(
      THRESHOLDS.map((t) => [`${t.variant} ${t.thresholdUs}`, new Array(USER_GROUPS).fill(0)]),
    );
    const send = (headers: [string, string][], ms: number) => {
      const s = h.startStream();
      s.requestHeaders([[":authority", "reviews"], ...headers], true);
      clock.elapse(ms * 1_000_000);
      s.responseHeaders(200, [], true);
      s.complete({ responseCode: 200 });
    };
    // Latencies around every threshold, including exactly at one (not slower).
    const latencies = [5, 20, 21, 50, 60, 95];
    for (let u = 0; u < 200; u++) {
      const key = `user-${u}`;
      const variant = stickyBucket("default/reviews", key) >= 10000 - CANARY_WEIGHT ? "canary" : "stable";
      const group = stickyUserGroup("default/reviews", key);
      const ms = latencies[u % latencies.length]!;
      send([["x-user-id", key]], ms);
      for (const t of THRESHOLDS) {
        if (t.variant === variant && ms * 1000 > t.thresholdUs)
          expected.get(`${t.variant} ${t.thresholdUs}`)![group]++;
      }
    }
    for (let i = 0; i < 30; i++) send([["x-meshcanary-pin", i % 2 ? "canary" : "stable"]], 200);
    await h.advance(1000);
    const got = stateSlow(h);
    for (const [key, counts] of expected) {
      expect(got.get(key), key).toEqual(counts);
      expect(
        counts.some((n) => n > 0),
        key,
      ).toBe(true);
    }
    expect(got.size).toBe(THRESHOLDS.length);
  });

  it("refuses a configuration with a bad threshold, naming the field", async () => {
    const h = await startHost({ workers: 1, pluginConfig: config(THRESHOLDS) });
    const cases: [unknown, string][] = [
      [
        [{ variant: "nope", thresholdUs: 10 }],
        'routes[0].slowThresholds[0].variant: not a variant of the route, got "nope"',
      ],
      [
        [{ variant: "stable", thresholdUs: 0 }],
        "routes[0].slowThresholds[0].thresholdUs: must be an integer 1..9007199254740991, got 0",
      ],
      [[{ variant: "stable" }], "routes[0].slowThresholds[0].thresholdUs: is required"],
      [
        [
          { variant: "stable", thresholdUs: 10 },
          { variant: "stable", thresholdUs: 10 },
        ],
        'routes[0].slowThresholds[1]: duplicate threshold 10 for variant "stable"',
      ],
      [
        Array.from({ length: 9 }, (_, i) => ({ variant: "stable", thresholdUs: i + 1 })),
        "routes[0].slowThresholds: at most 8 entries, got 9; 1 ignored",
      ],
    ];
    for (const [slow, error] of cases) {
      const logged = h.logs.length;
      expect(h.configure(config(slow)).ok, error).toBe(false);
      expect(
        h.logs
          .slice(logged)
          .map((l) => l.message)
          .join("\n"),
      ).toContain(error);
    }
  });
});
