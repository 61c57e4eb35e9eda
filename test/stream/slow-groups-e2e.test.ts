/**
 * Issue #18 end to end, through a running controller: embedded Kubernetes API, real gRPC telemetry,
 * and the compiled build/meshcanary.wasm in the sandbox host. A Canary with a latency check
 * `quantile: 0.99, maxRatio: 1.2` and sticky users. The test owns every request's latency (the host
 * clock moves only when it says), so it knows which requests each threshold must count.
 *
 * It shows the join: (a) the Directive the filter stored carries exactly stable's T0 and the
 * canary's 1.2·T0 in whole µs, T0 being the baseline the controller keeps in the Canary's status;
 * (b) the controller's windows hold the per-group counts above exactly those keys, equal to what
 * the test drove, and the latency check's user-group test in status took them in (looks > 0, per
 * group the same counts); (c) four heavy users in two groups made slow on the canary make the
 * block test cross, and the check holds "not yet across user groups" instead of rolling back.
 * Any mismatch between the keys the directive sends and the keys the analysis looks up leaves the
 * group test unfed: (b) fails, and (c) turns into a rollback.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quantileKey } from "../../controller/analysis/checks.js";
import type { RunningController } from "../../controller/app/controller.js";
import { DirectiveSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { stickyBucket } from "../../controller/mesh/sticky-hash.js";
import { stickyUserGroup, USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import type { ProxyWasmHost } from "../../sandbox/host/index.js";
import { healthySpec, type Json, startWorld, until, type World } from "../controller/harness.js";
import { type LatencyClock, latencyClock } from "../helpers/latency-clock.js";
import { CANARY, CLUSTER, INTERVAL_MS, newHost, sleep, step } from "./harness.js";

const NAME = "reviews";
const WEIGHT_BP = 5000;
const RATIO = 1.2;
/** Key of stable's p99 in the stored baselines. */
const P99 = quantileKey(0.99);
/** Ordinary requests take 10..110 ms in µs steps, so stable's p99 is close to 109 ms and 1% are above it. */
const FAST_US = (n: number) => 10_000 + ((n * 7919) % 100_000);
const SLOW_US = 300_000;
/** Requests per heavy user per batch. */
const HEAVY = 4;

type Variant = "stable" | "canary";
const variantOf = (user: string): Variant =>
  stickyBucket(CANARY, user) >= 10000 - WEIGHT_BP ? "canary" : "stable";

/**
 * The users: 40 light and 4 heavy on each variant (equal request counts, so no sample-ratio
 * mismatch); the canary's heavy users sit in two user groups, two each.
 */
function users() {
  const keys = Array.from({ length: 4000 }, (_, i) => `user-${i}`);
  const byGroup = new Map<number, string[]>();
  for (const k of keys.filter((k) => variantOf(k) === "canary")) {
    const g = stickyUserGroup(CANARY, k);
    byGroup.set(g, [...(byGroup.get(g) ?? []), k]);
  }
  const heavyCanary = [...byGroup.values()]
    .filter((ks) => ks.length >= 2)
    .slice(0, 2)
    .flatMap((ks) => ks.slice(0, 2));
  const heavyStable = keys.filter((k) => variantOf(k) === "stable").slice(0, 4);
  const taken = new Set([...heavyCanary, ...heavyStable]);
  const light = (v: Variant) => keys.filter((k) => variantOf(k) === v && !taken.has(k)).slice(0, 40);
  return { heavyCanary, heavyStable, light: [...light("stable"), ...light("canary")] };
}

type Threshold = { variant: string; thresholdUs: number };

/** The slow thresholds of the Directive the filter stored in shared data (none before one arrives). */
function appliedThresholds(h: ProxyWasmHost): Threshold[] {
  const e = h.sharedData.get("meshcanary.directive");
  if (!e) return [];
  const d = fromBinary(DirectiveSchema, e.value.subarray(8));
  const route = d.routes.find((r) => r.canary === CANARY);
  return (route?.slowThresholds ?? []).map((t) => ({
    variant: t.variant,
    thresholdUs: Number(t.thresholdUs),
  }));
}

/** Traffic the test drives, and what the filter must count of it ("variant µs" → per group). */
class Traffic {
  readonly expected = new Map<string, number[]>();
  slowCanary = false;
  /** Requests not served by the variant their user's hash picks at the step's weight (none expected). */
  readonly misrouted: string[] = [];
  private n = 0;

  constructor(
    private readonly host: ProxyWasmHost,
    private readonly clock: LatencyClock,
    private readonly who: ReturnType<typeof users>,
  ) {}

  batch(): void {
    const thresholds = appliedThresholds(this.host);
    for (const u of this.who.light) this.request(u, FAST_US(this.n++), thresholds);
    for (let i = 0; i < HEAVY; i++) {
      for (const u of this.who.heavyStable) this.request(u, FAST_US(this.n++), thresholds);
      for (const u of this.who.heavyCanary)
        this.request(u, this.slowCanary ? SLOW_US : FAST_US(this.n++), thresholds);
    }
  }

  private request(user: string, us: number, thresholds: Threshold[]): void {
    const s = this.host.startStream();
    const routed = s.requestHeaders(
      [
        [":authority", NAME],
        ["x-user-id", user],
      ],
      true,
    );
    this.clock.elapse(us * 1000);
    s.responseHeaders(200, [], true);
    s.complete({ responseCode: 200 });
    const variant = routed.headers.find(([k]) => k === "x-meshcanary-variant")?.[1];
    if (variant === undefined) return; // no route yet: nothing tallied
    if (variant !== variantOf(user)) {
      this.misrouted.push(`${user} went to ${variant}, not ${variantOf(user)}`);
      return;
    }
    for (const t of thresholds) {
      if (t.variant !== variant || us <= t.thresholdUs) continue;
      const key = `${t.variant} ${t.thresholdUs}`;
      const counts = this.expected.get(key) ?? new Array<number>(USER_GROUPS).fill(0);
      counts[stickyUserGroup(CANARY, user)]!++;
      this.expected.set(key, counts);
    }
  }
}

/** Per "variant µs", the controller's slow counts per group over all its windows. */
function windowSlow(c: RunningController): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const w of c.telemetry.series(CANARY, 0, Number.MAX_SAFE_INTEGER)) {
    for (const [variant, stats] of w.variants) {
      for (const [us, counts] of stats.userGroups?.slow ?? []) {
        const key = `${variant} ${us}`;
        const into = out.get(key) ?? new Array<number>(USER_GROUPS).fill(0);
        counts.forEach((x, g) => {
          into[g]! += x;
        });
        out.set(key, into);
      }
    }
  }
  return out;
}

/** The latency check's comparison state in the Canary's status. */
function latencyComparison(status: Json): Json {
  const conditions = status?.analysisState?.checks?.p99?.conditions ?? {};
  return Object.values(conditions as Record<string, Json>).find((c) => c.type === "comparison");
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

let world: World;
let host: ProxyWasmHost | undefined;
beforeAll(async () => {
  world = await startWorld([NAME]);
});
afterAll(async () => {
  await host?.close();
  await world.close();
});

describe("sticky slow users through a running controller (issue #18)", () => {
  it("the Directive's thresholds are the keys the latency check's user-group test reads, and it holds", async () => {
    const controller = await world.controller({ statusCheckpointMs: 300 });
    const clock = latencyClock();
    host = await newHost(controller.telemetryPort, {
      workers: 2,
      clock,
      config: JSON.stringify({ controller: { cluster: CLUSTER, intervalMs: INTERVAL_MS }, routes: [] }),
    });
    const who = users();
    expect(new Set(who.heavyCanary.map((u) => stickyUserGroup(CANARY, u))).size).toBe(2);
    const traffic = new Traffic(host, clock, who);
    await world.createCanary(
      NAME,
      healthySpec([WEIGHT_BP / 100], {
        sticky: { header: "x-user-id" },
        analysis: {
          minStepDuration: "10m",
          minRequests: 50,
          alpha: 0.05,
          blockDuration: "1s",
          checks: [{ name: "p99", latency: { quantile: 0.99, maxRatio: RATIO } }],
        },
      }),
    );

    // Real time drives the controller's 1-s windows; each batch is one report interval of the filter.
    let running = true;
    let keys = { stable: "", canary: "" };
    const pump = (async () => {
      while (running) {
        traffic.batch();
        await step(host!);
        await sleep(60);
      }
    })();
    try {
      // (a) Once the step is analysed with stable's p99, the filter's Directive carries its thresholds.
      const status = await until(
        "stable's p99 in status and thresholds in the filter's Directive",
        async () => {
          const s = (await world.canary(NAME)).status;
          const t0 = s?.analysisState?.baselines?.stableLatencyUs?.[P99];
          return t0 !== undefined && appliedThresholds(host!).length > 0 && s;
        },
        30_000,
      );
      const t0: number = status.analysisState.baselines.stableLatencyUs[P99];
      // The figure is stable's p99 of what the test drove (the sketch's relative accuracy aside).
      expect(Math.abs(t0 - 109_000) / 109_000).toBeLessThan(0.03);
      const stableUs = Math.round(t0);
      const canaryUs = Math.round(RATIO * t0);
      expect(appliedThresholds(host)).toEqual([
        { variant: "stable", thresholdUs: stableUs },
        { variant: "canary", thresholdUs: canaryUs },
      ]);
      keys = { stable: `stable ${stableUs}`, canary: `canary ${canaryUs}` };

      // (c) Two seconds (windows) on, every window counts at those thresholds; now the canary's four
      // heavy users (two groups) turn slow: the block test crosses, the group test holds.
      await sleep(2 * INTERVAL_MS);
      traffic.slowCanary = true;
      const held = await until(
        "the latency check holding on user groups",
        async () => {
          const s = (await world.canary(NAME)).status;
          if (s?.phase !== "Progressing") throw new Error(`phase ${s?.phase}: ${s?.message}`);
          const analysis = s?.conditions?.find((c: Json) => c.type === "AnalysisPassing");
          return analysis?.message?.includes("holding: not yet across user groups") && analysis;
        },
        40_000,
      );
      // The block test did cross: only the user-group test keeps the canary from being rolled back.
      expect(held.reason).toBe("Inconclusive");
      expect(held.message).toMatch(/p99 vs 1\.2x stable: canary worse than 1x stable \(e=[^;]+ >= 20\.0;/);
    } finally {
      running = false;
      await pump;
    }

    // (b) All reports in: the windows hold exactly what the filter had to count, at exactly the two
    // keys; the check's group test took the same counts in (canary's, and both arms' together).
    expect(traffic.misrouted.slice(0, 3)).toEqual([]);
    const expected = traffic.expected;
    expect([...expected.keys()].sort()).toEqual([keys.canary, keys.stable]);
    const slowCanary = expected.get(keys.canary)!;
    const slowStable = expected.get(keys.stable)!;
    // Stable's 1% above T0 fall in many groups, the canary's slow requests in the heavy users' two.
    expect(slowStable.filter((n) => n > 0).length).toBeGreaterThan(10);
    const heavyGroups = [...new Set(who.heavyCanary.map((u) => stickyUserGroup(CANARY, u)))];
    expect(slowCanary.flatMap((n, g) => (n > 0 ? [g] : []))).toEqual(heavyGroups.sort((x, y) => x - y));
    for (let i = 0; i < 3; i++) await step(host);
    await until("every slow count in the controller's windows", async () => {
      const got = windowSlow(controller);
      return [...expected].every(([k, v]) => sum(got.get(k) ?? []) === sum(v));
    });
    const got = windowSlow(controller);
    expect([...got.keys()].sort()).toEqual([keys.canary, keys.stable]);
    for (const [key, counts] of expected) expect(got.get(key), key).toEqual(counts);

    const total = slowCanary.map((c, g) => c + slowStable[g]!);
    const comparison = await until(
      "the group test fed with every window",
      async () => {
        const c = latencyComparison((await world.canary(NAME)).status);
        return c?.groups && sum(c.groups.total) === sum(total) && c;
      },
      15_000,
    );
    expect(comparison.groups.looks).toBeGreaterThan(0);
    expect(comparison.groups.canary).toEqual(slowCanary);
    expect(comparison.groups.total).toEqual(total);
  }, 120_000);
});
