// The per-user-group slow counts end to end in our host: the real filter (build/meshcanary.wasm)
// takes a Directive's slow thresholds, counts each sticky user's requests slower than its
// variant's threshold in the user's group (pinned ones in none), reports them, and the real
// telemetry server puts exactly those counts into its windows. A threshold leaving the table is
// pruned from the proxy's totals and starts from 0 when it comes back; after a controller restart
// the first report's baseline lets the new controller count only what it had not.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DirectiveSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { stickyBucket } from "../../controller/mesh/sticky-hash.js";
import type { TelemetryServer } from "../../controller/telemetry/index.js";
import { stickyUserGroup, USER_GROUPS } from "../../controller/telemetry/user-groups.js";
import type { ProxyWasmHost } from "../../sandbox/host/index.js";
import {
  CANARY,
  CLUSTER,
  closedAfterEach,
  INTERVAL_MS,
  newHost,
  sharedState,
  startServer,
  step,
  stepUntil,
} from "./harness.js";
import { type LatencyClock, latencyClock } from "../helpers/latency-clock.js";

const HOST = "reviews.default.svc.cluster.local";
const CANARY_BP = 3000;
const STABLE_US = 40_000;
const CANARY_US = 60_000;

const { hosts, servers } = closedAfterEach();

function config(): string {
  return JSON.stringify({
    controller: { cluster: CLUSTER, intervalMs: INTERVAL_MS },
    routes: [
      {
        host: HOST,
        canary: CANARY,
        variants: [
          { name: "stable", weight: 10000 - CANARY_BP },
          { name: "canary", weight: CANARY_BP },
        ],
        sticky: { header: "x-user-id" },
      },
    ],
  });
}

type Threshold = { variant: string; thresholdUs: number };

function publish(server: TelemetryServer, version: number, thresholds: Threshold[]): void {
  const err = server.publish(
    create(DirectiveSchema, {
      version: BigInt(version),
      routes: [
        {
          host: HOST,
          canary: CANARY,
          variants: [
            { name: "stable", weightBp: 10000 - CANARY_BP },
            { name: "canary", weightBp: CANARY_BP },
          ],
          sticky: { header: "x-user-id" },
          slowThresholds: thresholds.map((t) => ({ variant: t.variant, thresholdUs: BigInt(t.thresholdUs) })),
        },
      ],
    }),
  );
  if (err) throw err;
}

interface World {
  host: ProxyWasmHost;
  clock: LatencyClock;
  /** Expected slow counts per "variant threshold", per group. */
  expected: Map<string, number[]>;
}

/** One request taking `ms`, sticky for `user` or pinned to `pin`, counted into `expected` as the filter must. */
function request(
  w: World,
  ms: number,
  who: { user: string } | { pin: string },
  thresholds: Threshold[],
): void {
  const headers: [string, string][] = [[":authority", "reviews"]];
  if ("user" in who) headers.push(["x-user-id", who.user]);
  else headers.push(["x-meshcanary-pin", who.pin]);
  const stream = w.host.startStream();
  stream.requestHeaders(headers, true);
  w.clock.elapse(ms * 1_000_000);
  stream.responseHeaders(200, [], true);
  stream.complete({ responseCode: 200 });
  if (!("user" in who)) return;
  const variant = stickyBucket(CANARY, who.user) >= 10000 - CANARY_BP ? "canary" : "stable";
  const group = stickyUserGroup(CANARY, who.user);
  for (const t of thresholds) {
    if (t.variant !== variant || ms * 1000 <= t.thresholdUs) continue;
    const key = `${t.variant} ${t.thresholdUs}`;
    const counts = w.expected.get(key) ?? new Array<number>(USER_GROUPS).fill(0);
    counts[group]!++;
    w.expected.set(key, counts);
  }
}

/** Per "variant threshold", the controller's slow counts per group over all windows. */
function controllerSlow(server: TelemetryServer): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const win of server.reader.series(CANARY, 0, Number.MAX_SAFE_INTEGER)) {
    for (const [variant, stats] of win.variants) {
      for (const [us, counts] of stats.userGroups?.slow ?? []) {
        const key = `${variant} ${us}`;
        const into = out.get(key) ?? new Array<number>(USER_GROUPS).fill(0);
        counts.forEach((n, g) => {
          into[g]! += n;
        });
        out.set(key, into);
      }
    }
  }
  return out;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** The proxy's cumulative slow counts of `variant` at `us` (undefined: no such entry). */
function stateSlow(host: ProxyWasmHost, variant: string, us: number, list: "totals" | "baseline" = "totals") {
  const t = sharedState(host)?.[list].find((e) => e.variant === variant);
  const e = t?.slow.find((s) => Number(s.thresholdUs) === us);
  return e ? e.byGroup.map(Number) : undefined;
}

/** Steps until `cond` holds, then one more interval (the report carrying it goes out). */
async function reported(w: World, what: string, cond: () => boolean): Promise<void> {
  await stepUntil(w.host, cond, what);
  await step(w.host);
}

describe("slow counts per user group, filter to controller windows", () => {
  it("counts exactly the sticky requests above their variant's threshold, per group; pinned ones in none", async () => {
    const server = await startServer();
    servers.push(server);
    const clock = latencyClock();
    const host = await newHost(server.port, { workers: 2, config: config(), clock });
    hosts.push(host);
    const w: World = { host, clock, expected: new Map() };
    const thresholds = [
      { variant: "stable", thresholdUs: STABLE_US },
      { variant: "canary", thresholdUs: CANARY_US },
    ];
    // Two entries the filter must leave out (unknown variant, threshold 0): the route still applies.
    publish(server, 1, [
      ...thresholds,
      { variant: "nope", thresholdUs: 5 },
      { variant: "canary", thresholdUs: 0 },
    ]);
    await stepUntil(
      host,
      () => [...server.reader.routingVersions().values()].includes(1),
      "directive 1 applied",
    );
    await step(host);

    let requests = 0;
    for (let u = 0; u < 300; u++) {
      // 10 ms: under both; 50 ms: over stable's only; 80 ms: over both.
      for (const ms of [10, u % 3 === 0 ? 50 : 30, u % 5 === 0 ? 80 : 20]) {
        request(w, ms, { user: `user-${u}` }, thresholds);
        requests++;
      }
    }
    for (let i = 0; i < 20; i++) request(w, 100, { pin: i % 2 ? "canary" : "stable" }, thresholds);
    requests += 20;
    const total = () =>
      sum(
        ["stable", "canary"].map((v) =>
          Number(sharedState(host)?.totals.find((t) => t.variant === v)?.requests ?? 0),
        ),
      );
    await reported(w, "every request reported", () => total() === requests);
    await stepUntil(
      host,
      () =>
        sum(controllerSlow(server).get(`stable ${STABLE_US}`) ?? []) ===
        sum(w.expected.get(`stable ${STABLE_US}`)!),
      "slow counts at the controller",
    );

    const got = controllerSlow(server);
    expect([...got.keys()].sort()).toEqual([`canary ${CANARY_US}`, `stable ${STABLE_US}`]);
    for (const [key, counts] of w.expected) expect(got.get(key), key).toEqual(counts);
    // Many groups really are in play, on both variants.
    for (const key of got.keys()) expect(got.get(key)!.filter((n) => n > 0).length, key).toBeGreaterThan(10);
    expect(Number(sharedState(host)!.counters.slow_thresholds_ignored)).toBe(2);
  });

  it("prunes a threshold that left the table; back again it starts from 0; a restarted controller counts totals − baseline", async () => {
    let server = await startServer();
    servers.push(server);
    const clock = latencyClock();
    const host = await newHost(server.port, { workers: 2, config: config(), clock });
    hosts.push(host);
    const w: World = { host, clock, expected: new Map() };
    const stableOnly = [{ variant: "stable", thresholdUs: STABLE_US }];
    const canaryOnly = [{ variant: "canary", thresholdUs: CANARY_US }];
    const users = Array.from({ length: 200 }, (_, u) => `user-${u}`).filter(
      (k) => stickyBucket(CANARY, k) < 10000 - CANARY_BP,
    );
    const slowStable = (n: number) => {
      for (let i = 0; i < n; i++) request(w, 70, { user: users[i % users.length]! }, stableOnly);
    };
    const applied = (v: number) => () => [...server.reader.routingVersions().values()].includes(v);

    publish(server, 1, stableOnly);
    await stepUntil(host, applied(1), "directive 1 applied");
    slowStable(40);
    await reported(
      w,
      "40 slow stable requests in the proxy's totals",
      () => sum(stateSlow(host, "stable", STABLE_US) ?? []) === 40,
    );

    publish(server, 2, canaryOnly);
    await stepUntil(host, applied(2), "directive 2 applied");
    await reported(
      w,
      "the stable threshold pruned",
      () => stateSlow(host, "stable", STABLE_US) === undefined,
    );
    // Slow while no threshold is installed for stable: counted nowhere.
    for (let i = 0; i < 10; i++) request(w, 70, { user: users[i]! }, []);

    publish(server, 3, stableOnly);
    await stepUntil(host, applied(3), "directive 3 applied");
    slowStable(15);
    await reported(
      w,
      "the re-added threshold's counts",
      () => sum(stateSlow(host, "stable", STABLE_US) ?? []) === 15,
    );
    await stepUntil(
      host,
      () => sum(controllerSlow(server).get(`stable ${STABLE_US}`) ?? []) === 55,
      "55 at the controller",
    );
    expect(controllerSlow(server).get(`stable ${STABLE_US}`)).toEqual(w.expected.get(`stable ${STABLE_US}`));
    // Confirmed delivered: the baseline a new stream would carry holds the slow counts too.
    await step(host);
    expect(stateSlow(host, "stable", STABLE_US, "baseline")).toEqual(stateSlow(host, "stable", STABLE_US));

    // The controller restarts; once the filter saw its stream end, more slow requests: the new
    // controller, given the baseline, counts exactly those; the old one kept everything before.
    const old = server;
    const port = server.port;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const closed = () => host.logs.some((l) => l.message.includes("controller stream closed"));
    await stepUntil(host, closed, "the filter to see its stream end");
    const counted = [...w.expected.get(`stable ${STABLE_US}`)!];
    expect(controllerSlow(old).get(`stable ${STABLE_US}`)).toEqual(counted);
    slowStable(25);
    server = await startServer(port);
    servers.push(server);
    const since = w.expected.get(`stable ${STABLE_US}`)!.map((n, g) => n - counted[g]!);
    await stepUntil(
      host,
      () => sum(controllerSlow(server).get(`stable ${STABLE_US}`) ?? []) >= 25,
      "the new controller's counts",
      120,
    );
    await step(host);
    expect(sum(since)).toBe(25);
    expect(controllerSlow(server).get(`stable ${STABLE_US}`)).toEqual(since);
  });
});
