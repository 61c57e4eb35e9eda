// The real build/meshcanary.wasm through the sandbox proxy-wasm host (Envoy-faithful), end to end:
// routing decisions, header hygiene, configuration handling, tallies, Envoy counters, robustness.
import { beforeAll, describe, expect, it } from "vitest";
import type { Headers, ProxyWasmHost } from "../../sandbox/host/index.js";
import { stickyBucket } from "../../controller/mesh/sticky-hash.js";
import { fromBinary } from "@bufbuild/protobuf";
import { ReportSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { filterHosts } from "./filter-hosts.js";

const HOST = "reviews.default.svc.cluster.local";
const VARIANT = "x-meshcanary-variant";

interface RouteOptions {
  canaryWeight?: number;
  sticky?: boolean;
  extra?: Record<string, unknown>;
}

function pluginConfig({ canaryWeight = 1000, sticky = true, extra = {} }: RouteOptions = {}): string {
  return JSON.stringify({
    routes: [
      {
        host: HOST,
        canary: "default/reviews",
        variants: [
          { name: "stable", weight: 10000 - canaryWeight },
          { name: "canary", weight: canaryWeight },
        ],
        ...(sticky ? { sticky: { header: "x-user-id" } } : {}),
        ...extra,
      },
    ],
  });
}

/** Headers the sandbox host (like Envoy's HCM) adds before filters run. */
const HCM_ADDED = new Set(["x-forwarded-proto", "x-request-id"]);

/** Request headers as forwarded, minus what the HCM added (so "untouched" can be compared exactly). */
function withoutHcm(headers: Headers): Headers {
  return headers.filter(([k]) => !HCM_ADDED.has(k));
}

function variantsOf(headers: Headers): string[] {
  return headers.filter(([k]) => k === VARIANT).map(([, v]) => v);
}

/** Seeded PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const startHost = filterHosts();

function newHost(config: string, workers = 2): Promise<ProxyWasmHost> {
  return startHost({ workers, pluginConfig: config });
}

function get(host: ProxyWasmHost, headers: Headers, status: number | undefined = 200) {
  return host.request({
    request: { headers },
    response: status === undefined ? undefined : { status, bodyBytes: 10 },
    durationNs: 1_000_000,
  });
}

describe("decision", () => {
  let host: ProxyWasmHost;
  beforeAll(async () => {
    host = await newHost(pluginConfig({ canaryWeight: 0 }));
  });

  it("leaves unknown hosts completely untouched", () => {
    const headers: Headers = [
      [":authority", "ratings:9080"],
      [":path", "/"],
      [":method", "GET"],
      [VARIANT, "canary"],
      ["cookie", "meshcanary-pin=canary"],
    ];
    const r = get(host, headers);
    expect(withoutHcm(r.requestHeaders)).toEqual(headers);
    expect(r.localReply).toBeUndefined();
  });

  it("strips client-sent variant headers (also repeated) and sets exactly one", () => {
    for (const authority of [`${HOST}:9080`, "reviews:9080", "REVIEWS.default", "reviews.default.svc"]) {
      const r = get(host, [
        [":authority", authority],
        [":path", "/"],
        [VARIANT, "canary"],
        [VARIANT, "canary"],
        ["x-user-id", "u1"],
      ]);
      expect(variantsOf(r.requestHeaders)).toEqual(["stable"]);
    }
  });

  it("honours pins by header, then cookie, over sticky and weights", () => {
    const base: Headers = [
      [":authority", "reviews:9080"],
      ["x-user-id", "u1"],
    ];
    expect(variantsOf(get(host, [...base, ["x-meshcanary-pin", "canary"]]).requestHeaders)).toEqual([
      "canary",
    ]);
    expect(variantsOf(get(host, [...base, ["cookie", "a=b; meshcanary-pin=canary"]]).requestHeaders)).toEqual(
      ["canary"],
    );
    expect(
      variantsOf(
        get(host, [...base, ["x-meshcanary-pin", "stable"], ["cookie", "meshcanary-pin=canary"]])
          .requestHeaders,
      ),
    ).toEqual(["stable"]);
    expect(variantsOf(get(host, [...base, ["x-meshcanary-pin", "nope"]]).requestHeaders)).toEqual(["stable"]);
  });

  it("keeps users monotonic (never canary -> stable) as the weight grows 1% -> 50% -> 100%", async () => {
    const h = await newHost(pluginConfig({ canaryWeight: 100 }));
    const users = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
    const wasCanary = new Set<string>();
    for (const weight of [100, 5000, 10000]) {
      expect(h.configure(pluginConfig({ canaryWeight: weight }))).toEqual({ ok: true });
      let canary = 0;
      for (const u of users) {
        const [v] = variantsOf(
          get(h, [
            [":authority", "reviews"],
            ["x-user-id", u],
          ]).requestHeaders,
        );
        if (v === "canary") {
          canary++;
          wasCanary.add(u);
        } else {
          expect(wasCanary.has(u), `${u} went canary -> stable at ${weight} bp`).toBe(false);
        }
      }
      // Exactly the users the TypeScript twin puts in the canary's top bucket range.
      const expected = users.filter((u) => stickyBucket("default/reviews", u) >= 10000 - weight).length;
      expect(canary).toBe(expected);
    }
    expect(wasCanary.size).toBe(users.length);
  });

  it("realises a sticky split within ±0.5 pp over 100k users", async () => {
    const h = await newHost(pluginConfig({ canaryWeight: 1000 }), 1);
    let canary = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const r = get(h, [
        [":authority", "reviews"],
        ["x-user-id", `u${i}`],
      ]);
      if (r.requestHeaders.some(([k, v]) => k === VARIANT && v === "canary")) canary++;
    }
    expect(Math.abs(canary / n - 0.1)).toBeLessThan(0.005);
  });

  it("splits weighted-random traffic within binomial tolerance", async () => {
    const h = await newHost(pluginConfig({ canaryWeight: 3000, sticky: false }));
    const n = 20_000;
    let canary = 0;
    for (let i = 0; i < n; i++) {
      const [v] = variantsOf(get(h, [[":authority", "reviews"]]).requestHeaders);
      if (v === "canary") canary++;
    }
    const sd = Math.sqrt(n * 0.3 * 0.7);
    expect(Math.abs(canary - n * 0.3)).toBeLessThan(5 * sd);
  });
});

describe("configuration", () => {
  it("rejects a bad configuration with field paths and keeps the last good one", async () => {
    const h = await newHost(pluginConfig({ canaryWeight: 10000 }));
    const bad = JSON.stringify({
      routes: [
        {
          host: HOST,
          canary: "default/reviews",
          variants: [
            { name: "stable", weight: 0 },
            { name: "canary", weight: 12000 },
          ],
        },
      ],
    });
    const result = h.configure(bad);
    expect(result.ok).toBe(false);
    expect(
      h.logs.some((l) =>
        l.message.includes("routes[0].variants[1].weight: must be an integer 0..10000, got 12000"),
      ),
    ).toBe(true);
    for (let i = 0; i < 4; i++) {
      const r = get(h, [
        [":authority", "reviews"],
        ["x-user-id", `u${i}`],
      ]);
      expect(variantsOf(r.requestHeaders)).toEqual(["canary"]);
    }
    expect(h.configure("{not json").ok).toBe(false);
    expect(h.logs.some((l) => l.message.includes("invalid JSON at position 1"))).toBe(true);
    expect(h.failed(0) || h.failed(1)).toBe(false);
  });

  it("accepts an empty configuration (no routes)", async () => {
    const h = await newHost("");
    const headers: Headers = [
      [":authority", "reviews"],
      [VARIANT, "x"],
    ];
    expect(withoutHcm(get(h, headers).requestHeaders)).toEqual(headers);
  });
});

interface Tally {
  canary: string;
  variant: string;
  requests: number;
  failures: number;
  statusNone: number;
  status1xx: number;
  status2xx: number;
  status3xx: number;
  status4xx: number;
  status5xx: number;
  responseBytes: number;
  latencyUs: { count: number; zeroCount: number; sum: number; indexes: number[]; counts: number[] };
  metrics: Array<{ name: string; count: number; sum: number }>;
}

/**
 * The proxy's cumulative tallies per variant, as the workers' ticks store them in shared data
 * (`meshcanary.state`: one flags byte, then a protobuf Report) for the reporter to send.
 */
function readTallies(host: ProxyWasmHost): Map<string, Tally[]> {
  const byVariant = new Map<string, Tally[]>();
  const entry = host.sharedData.get("meshcanary.state");
  if (!entry) return byVariant;
  const report = fromBinary(ReportSchema, entry.value.subarray(1));
  for (const t of report.totals) {
    const sketch = (
      s: { count: bigint; zeroCount: bigint; sum: number; indexes: number[]; counts: bigint[] } | undefined,
    ) => ({
      count: Number(s?.count ?? 0n),
      zeroCount: Number(s?.zeroCount ?? 0n),
      sum: s?.sum ?? 0,
      indexes: s?.indexes ?? [],
      counts: (s?.counts ?? []).map(Number),
    });
    const tally: Tally = {
      canary: t.canary,
      variant: t.variant,
      requests: Number(t.requests),
      failures: Number(t.failures),
      statusNone: Number(t.statusNone),
      status1xx: Number(t.status1xx),
      status2xx: Number(t.status2xx),
      status3xx: Number(t.status3xx),
      status4xx: Number(t.status4xx),
      status5xx: Number(t.status5xx),
      responseBytes: Number(t.responseBytes),
      latencyUs: sketch(t.latencyUs),
      metrics: t.metrics.map((m) => ({ name: m.name, count: Number(m.count), sum: m.sum })),
    };
    byVariant.set(t.variant, [...(byVariant.get(t.variant) ?? []), tally]);
  }
  return byVariant;
}

function sum(ts: Tally[] | undefined, f: (t: Tally) => number): number {
  return (ts ?? []).reduce((a, t) => a + f(t), 0);
}

/** Nearest-rank quantile over merged sketches (bucket value as in controller/telemetry/sketch.ts). */
function quantileOf(ts: Tally[], q: number): number {
  const buckets = new Map<number, number>();
  let count = 0;
  for (const t of ts) {
    count += t.latencyUs.count - t.latencyUs.zeroCount;
    t.latencyUs.indexes.forEach((i, k) => {
      buckets.set(i, (buckets.get(i) ?? 0) + t.latencyUs.counts[k]);
    });
  }
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (const i of [...buckets.keys()].sort((a, b) => a - b)) {
    seen += buckets.get(i)!;
    if (seen >= rank) return (2 * 1.0202 ** i) / 2.0202;
  }
  return Number.NaN;
}

describe("tallies and Envoy counters", () => {
  it("tallies exactly what was driven, per variant, across workers", async () => {
    const h = await newHost(
      pluginConfig({
        canaryWeight: 5000,
        extra: { failureCodes: [429], metrics: [{ name: "tokens", header: "x-llm-total-tokens" }] },
      }),
    );
    const exchanges: Array<{ variant: string; status?: number; flags: number; ns: number; tokens?: number }> =
      [];
    const random = rng(7);
    for (let i = 0; i < 2000; i++) {
      const variant = i % 2 === 0 ? "stable" : "canary";
      const roll = random();
      const status = roll < 0.05 ? undefined : roll < 0.1 ? 503 : roll < 0.15 ? 429 : roll < 0.2 ? 404 : 200;
      const flags = status === undefined ? 0x20 : roll > 0.99 ? 0x10 : 0;
      const ns = Math.round(Math.exp(random() * 10 + 7)); // ~1 µs .. 24 ms
      const tokens = status === 200 ? Math.floor(random() * 500) : undefined;
      exchanges.push({ variant, status, flags, ns, tokens });
      h.request({
        request: {
          headers: [
            [":authority", "reviews"],
            ["x-meshcanary-pin", variant],
          ],
        },
        response:
          status === undefined
            ? undefined
            : {
                status,
                bodyBytes: 100,
                headers: tokens === undefined ? [] : [["x-llm-total-tokens", String(tokens)]],
              },
        responseFlags: flags,
        durationNs: ns,
      });
    }
    await h.advance(1000);
    const tallies = readTallies(h);
    for (const variant of ["stable", "canary"]) {
      const driven = exchanges.filter((e) => e.variant === variant);
      const t = tallies.get(variant);
      expect(t, `tallies for ${variant}`).toBeDefined();
      expect(sum(t, (x) => x.requests)).toBe(driven.length);
      expect(sum(t, (x) => x.statusNone)).toBe(driven.filter((e) => e.status === undefined).length);
      expect(sum(t, (x) => x.status5xx)).toBe(driven.filter((e) => e.status === 503).length);
      expect(sum(t, (x) => x.status4xx)).toBe(
        driven.filter((e) => e.status === 429 || e.status === 404).length,
      );
      expect(sum(t, (x) => x.status2xx)).toBe(driven.filter((e) => e.status === 200).length);
      const failures = driven.filter(
        (e) => e.status === undefined || e.status === 503 || e.status === 429 || (e.flags & 0x10) !== 0,
      ).length;
      expect(sum(t, (x) => x.failures)).toBe(failures);
      // Body bytes are counted as the chunks pass the filter: 100 per answered request, none otherwise.
      expect(sum(t, (x) => x.responseBytes)).toBe(100 * driven.filter((e) => e.status !== undefined).length);
      const withTokens = driven.filter((e) => e.tokens !== undefined);
      expect(sum(t, (x) => x.metrics.find((m) => m.name === "tokens")?.count ?? 0)).toBe(withTokens.length);
      expect(sum(t, (x) => x.metrics.find((m) => m.name === "tokens")?.sum ?? 0)).toBe(
        withTokens.reduce((a, e) => a + (e.tokens ?? 0), 0),
      );
      const us = driven.map((e) => e.ns / 1000).sort((a, b) => a - b);
      const above1 = us.filter((v) => v >= 1);
      for (const q of [0.5, 0.9, 0.99]) {
        const exact = above1[Math.max(1, Math.ceil(q * above1.length)) - 1];
        expect(Math.abs(quantileOf(t!, q) - exact) / exact).toBeLessThan(0.01);
      }
      // Envoy counters, named as Envoy stores and Prometheus exposes them.
      const metrics = h.metrics();
      expect(metrics.get(`wasmcustom.meshcanary_requests__default__reviews__${variant}`)?.value).toBe(
        driven.length,
      );
      expect(metrics.get(`wasmcustom.meshcanary_failures__default__reviews__${variant}`)?.value).toBe(
        failures,
      );
      // Envoy prints untagged stats with an empty label set: `name{} value`.
      expect(h.prometheus()).toContain(
        `meshcanary_requests__default__reviews__${variant}{} ${driven.length}\n`,
      );
    }
  });

  it("keeps tallies across reconfiguration and does not count unknown hosts", async () => {
    const h = await newHost(pluginConfig({ canaryWeight: 10000 }), 1);
    get(h, [
      [":authority", "reviews"],
      ["x-user-id", "a"],
    ]);
    expect(h.configure(pluginConfig({ canaryWeight: 9000 }))).toEqual({ ok: true });
    get(h, [
      [":authority", "reviews"],
      ["x-meshcanary-pin", "canary"],
    ]);
    get(h, [[":authority", "ratings"]]);
    expect(h.metrics().get("wasmcustom.meshcanary_requests__default__reviews__canary")?.value).toBe(2);
    await h.advance(1000);
    expect(sum(readTallies(h).get("canary"), (t) => t.requests)).toBe(2);
  });
});

describe("robustness", () => {
  it("never traps under fuzzed headers", async () => {
    const h = await newHost(
      pluginConfig({ extra: { metrics: [{ name: "m", header: "x-m" }], pin: { cookie: "p" } } }),
    );
    const random = rng(42);
    const junk = (max: number) =>
      Array.from({ length: Math.floor(random() * max) }, () =>
        String.fromCharCode(random() < 0.8 ? 32 + Math.floor(random() * 95) : Math.floor(random() * 256)),
      ).join("");
    for (let i = 0; i < 3000; i++) {
      const headers: Headers = [
        [":authority", random() < 0.7 ? `reviews${random() < 0.5 ? ":9080" : ""}` : junk(40)],
      ];
      const many = Array.from({ length: Math.floor(random() * 200) }, (_, k) => `c${k}=${junk(20)}`).join(
        "; ",
      );
      headers.push(["cookie", random() < 0.5 ? many : junk(5000)]);
      if (random() < 0.5) headers.push(["x-user-id", random() < 0.1 ? "x".repeat(100_000) : junk(64)]);
      if (random() < 0.3) headers.push(["x-meshcanary-pin", junk(10)]);
      if (random() < 0.3) headers.push([VARIANT, junk(10)]);
      h.request({
        request: { headers },
        response:
          random() < 0.2 ? undefined : { status: Math.floor(random() * 700), headers: [["x-m", junk(30)]] },
        responseFlags: Math.floor(random() * 2 ** 30),
        durationNs: Math.floor(random() * 1e12),
      });
    }
    expect(h.failed(0)).toBe(false);
    expect(h.failed(1)).toBe(false);
  });

  it("never traps under fuzzed configurations (and keeps working)", async () => {
    const h = await newHost(pluginConfig());
    const random = rng(9);
    const valid = pluginConfig();
    for (let i = 0; i < 300; i++) {
      let text: string;
      const kind = random();
      if (kind < 0.3) {
        text = Array.from({ length: Math.floor(random() * 300) }, () =>
          String.fromCharCode(Math.floor(random() * 256)),
        ).join("");
      } else if (kind < 0.7) {
        const chars = valid.split("");
        for (let k = 0; k < 3; k++)
          chars[Math.floor(random() * chars.length)] = String.fromCharCode(Math.floor(random() * 128));
        text = chars.join("");
      } else if (kind < 0.85) {
        text = "[".repeat(Math.floor(random() * 5000));
      } else {
        text = JSON.stringify({
          routes: [{ host: "h".repeat(100_000), canary: "a/b", variants: [{ name: "x", weight: 1e308 }] }],
        });
      }
      h.configure(text);
    }
    expect(h.failed(0) || h.failed(1)).toBe(false);
    expect(h.configure(valid)).toEqual({ ok: true });
    expect(
      variantsOf(
        get(h, [
          [":authority", "reviews"],
          ["x-meshcanary-pin", "canary"],
        ]).requestHeaders,
      ),
    ).toEqual(["canary"]);
  });

  it("keeps memory flat over 200k requests", async () => {
    const h = await newHost(pluginConfig({ extra: { metrics: [{ name: "m", header: "x-m" }] } }), 1);
    const drive = (n: number, offset: number) => {
      for (let i = 0; i < n; i++) {
        h.request({
          request: {
            headers: [
              [":authority", "reviews:9080"],
              ["x-user-id", `u${(offset + i) % 5000}`],
              ["cookie", "a=b"],
            ],
          },
          response: { status: i % 50 === 0 ? 503 : 200, headers: [["x-m", String(i % 100)]], bodyBytes: 10 },
          durationNs: 1000 + (i % 1000) * 1000,
        });
      }
    };
    drive(20_000, 0);
    const before = h.memoryBytes(0);
    drive(200_000, 20_000);
    expect(h.memoryBytes(0)).toBe(before);
    expect(h.failed(0)).toBe(false);
  });
});
