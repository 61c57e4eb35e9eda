// Table-driven tests of the filter's pure modules, compiled to wasm from filter/testing/exports.ts.
import { beforeAll, describe, expect, it } from "vitest";
import {
  quantile as tsQuantile,
  emptySketch,
  record as tsRecord,
} from "../../controller/telemetry/sketch.js";
import { loadPureWasm, type PureWasm } from "./pure-wasm.js";

let wasm: PureWasm;
beforeAll(() => {
  wasm = loadPureWasm("pure");
});

const ABSENT = "\0";

function route(extra: Record<string, unknown> = {}, variants = [9000, 1000]): Record<string, unknown> {
  const names = ["stable", "canary", "v2", "v3", "v4", "v5", "v6", "v7", "v8"];
  return {
    host: "reviews.default.svc.cluster.local",
    canary: "default/reviews",
    variants: variants.map((weight, i) => ({ name: names[i], weight })),
    ...extra,
  };
}
const config = (routes: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ routes, ...extra });

describe("json", () => {
  it.each([
    ["{}", "{}"],
    ["  [1, -2.5, 3e2, 0, -0.125E+1] ", "[1,-2.5,300,0,-1.25]"],
    ['{"a":{"b":[true,false,null]},"c":"x"}', '{"a":{"b":[true,false,null]},"c":"x"}'],
    ['"esc \\" \\\\ \\/ \\n \\t \\u00e9 \\ud83d\\ude00"', '"esc \\" \\\\ / \\u000a \\u0009 é 😀"'],
    ['"ключ 日本"', '"ключ 日本"'],
    ['{"a":1,"a":2}', '{"a":1,"a":2}'],
  ])("parses %s", (input, expected) => {
    expect(wasm.str("jsonRoundTrip", input)).toBe(expected);
  });

  it.each([
    ["", "invalid JSON at position 0: unexpected end of input"],
    ["{", "invalid JSON at position 1: expected a string key"],
    ['{"a" 1}', "invalid JSON at position 5: expected ':'"],
    ['{"a":1,}', "invalid JSON at position 7: expected a string key"],
    ["[1,]", 'invalid JSON at position 3: unexpected character "]"'],
    ["[1 2]", "invalid JSON at position 3: expected ',' or ']'"],
    ["01", "invalid JSON at position 1: unexpected data after the value"],
    ["1.", "invalid JSON at position 2: invalid number: digit expected after '.'"],
    ["-", "invalid JSON at position 1: invalid number"],
    ["1e", "invalid JSON at position 2: invalid number: digit expected in exponent"],
    ['"abc', "invalid JSON at position 4: unterminated string"],
    ['"a\nb"', "invalid JSON at position 2: control character in string"],
    ['"\\x"', 'invalid JSON at position 2: invalid escape "\\\\x"'],
    ['"\\u12g4"', "invalid JSON at position 5: invalid \\u escape"],
    ["tru", 'invalid JSON at position 0: unexpected character "t"'],
    ["{} x", "invalid JSON at position 3: unexpected data after the value"],
    ["[".repeat(100), "invalid JSON at position 65: nesting deeper than 64"],
  ])("rejects %j", (input, message) => {
    expect(wasm.str("jsonRoundTrip", input)).toBe("error: " + message);
  });
});

describe("config validation", () => {
  it("accepts the documented example and derives short names", () => {
    const text = JSON.stringify({
      controller: { cluster: "outbound|9090||meshcanary-controller.meshcanary-system.svc.cluster.local" },
      routes: [route({ aliases: ["Reviews.Example.com"], cohort: "checkout-2026-11" })],
    });
    expect(wasm.str("configErrors", text)).toBe("");
    expect(wasm.str("configSummary", text)).toBe(
      "controller=meshcanary-controller.meshcanary-system.svc.cluster.local@1000" +
        ";reviews->default/reviews;reviews.default->default/reviews;reviews.default.svc->default/reviews" +
        ";reviews.default.svc.cluster.local->default/reviews;reviews.example.com->default/reviews" +
        ";default/reviews:9000,10000:cohort=checkout-2026-11:pin=x-meshcanary-pin/meshcanary-pin",
    );
  });

  it("treats empty and whitespace configuration as valid and empty", () => {
    expect(wasm.str("configErrors", "")).toBe("");
    expect(wasm.str("configSummary", " \n")).toBe("controller=none");
  });

  it("defaults the cohort to the canary name and keeps custom pin names", () => {
    const text = config([route({ pin: { header: "X-Pin", cookie: "pc" } })]);
    expect(wasm.str("configSummary", text)).toContain(":cohort=default/reviews:pin=x-pin/pc");
  });

  it.each([
    [
      config([route({}, [9000, 12000])]),
      "routes[0].variants[1].weight: must be an integer 0..10000, got 12000",
    ],
    [config([route({}, [9000, 999])]), "routes[0].variants: weights must sum to 10000, got 9999"],
    [
      config([route({}, [9000.5, 1000])]),
      "routes[0].variants[0].weight: must be an integer 0..10000, got 9000.5",
    ],
    [config([route({}, [])]), "routes[0].variants: must have 1..8 entries, got 0"],
    [
      config([route({}, [10000, 0, 0, 0, 0, 0, 0, 0, 0])]),
      "routes[0].variants: must have 1..8 entries, got 9",
    ],
    [
      config([{ ...route(), variants: [{ name: "Stable", weight: 10000 }] }]),
      'routes[0].variants[0].name: must match [a-z0-9]([-a-z0-9]*[a-z0-9])? (at most 63 characters), got "Stable"',
    ],
    [
      config([
        {
          ...route(),
          variants: [
            { name: "a", weight: 5000 },
            { name: "a", weight: 5000 },
          ],
        },
      ]),
      'routes[0].variants[1].name: duplicate variant "a"',
    ],
    [config([{ ...route(), variants: [{ name: "a" }] }]), "routes[0].variants[0].weight: is required"],
    [config([route({ host: "" })]), 'routes[0].host: must be a non-empty string, got ""'],
    [config([route({ host: 5 })]), "routes[0].host: must be a non-empty string, got 5"],
    [config([route({ canary: "reviews" })]), 'routes[0].canary: must be "<namespace>/<name>", got "reviews"'],
    [config([route({ aliases: ["ok", 3] })]), "routes[0].aliases[1]: must be a non-empty string, got 3"],
    [config([route({ sticky: {} })]), "routes[0].sticky: needs exactly one of header, cookie"],
    [
      config([route({ sticky: { header: "x-user", cookie: "uid" } })]),
      "routes[0].sticky: needs exactly one of header, cookie, got both",
    ],
    [
      config([route({ pin: { requireToken: "yes" } })]),
      'routes[0].pin.requireToken: must be true or false, got "yes"',
    ],
    [
      config([route({ failureCodes: [429, 600] })]),
      "routes[0].failureCodes[1]: must be an integer 100..599, got 600",
    ],
    [config([route({ metrics: [{ name: "tokens" }] })]), "routes[0].metrics[0].header: is required"],
    [config([route({ metrics: "x" })]), 'routes[0].metrics: must be an array, got "x"'],
    [
      config([route(), route({ canary: "default/other" })]),
      'routes[1].host: host "reviews.default.svc.cluster.local" is already used by canary "default/reviews"',
    ],
    [config([1]), "routes[0]: must be an object, got 1"],
    [JSON.stringify({ routes: {} }), "routes: must be an array, got an object"],
    [JSON.stringify({ controller: {} }), "controller.cluster: is required"],
    [
      JSON.stringify({ controller: { cluster: "c", intervalMs: 50 } }),
      "controller.intervalMs: must be an integer 100..60000, got 50",
    ],
    ["[]", "configuration: must be a JSON object, got an array"],
    ["{nope", "invalid JSON at position 1: expected a string key"],
    [
      config(
        Array(4097)
          .fill(0)
          .map((_, i) => route({ host: `h${i}`, canary: `ns/c${i}` })),
      ),
      "routes: at most 4096 routes, got 4097",
    ],
  ])("reports %s", (text, message) => {
    expect(wasm.str("configErrors", text)).toBe(message);
  });

  it("reports every problem, each with its path (shape problems first, then the rules)", () => {
    const shape = config([route({ host: "" }, [12000, 1000]), route({ sticky: [] })]);
    expect(wasm.str("configErrors", shape).split("\n")).toEqual([
      'routes[0].host: must be a non-empty string, got ""',
      "routes[0].variants[0].weight: must be an integer 0..10000, got 12000",
      "routes[1].sticky: must be an object, got an array",
    ]);
    const rules = config([route({}, [5000, 4000]), route({ canary: "x", host: "ratings" })]);
    expect(wasm.str("configErrors", rules).split("\n")).toEqual([
      "routes[0].variants: weights must sum to 10000, got 9000",
      'routes[1].canary: must be "<namespace>/<name>", got "x"',
    ]);
  });

  it("ignores unknown keys", () => {
    expect(wasm.str("configErrors", config([route({ future: { x: 1 } })], { other: true }))).toBe("");
  });

  it("keeps a Directive's valid routes, leaving out each invalid or conflicting one", () => {
    const hosts = ["reviews", "ratings", "reviews", "details", "ratings.example.com"].join(",");
    const weights = ["9000:1000", "5000:4000", "10000:0", "0:10000", "10000:0"].join(",");
    expect(wasm.str("directiveKept", hosts, weights).split("|")).toEqual([
      "ns/r0,ns/r3,ns/r4",
      "2",
      "routes[1].variants: weights must sum to 10000, got 9000\n" +
        'routes[2].host: host "reviews" is already used by canary "ns/r0"',
    ]);
    // 100 routes (the old limit was 64) all apply.
    const many = Array.from({ length: 100 }, (_, i) => `h${i}`).join(",");
    const even = Array.from({ length: 100 }, () => "5000:5000").join(",");
    expect(wasm.str("directiveKept", many, even).split("|")[1]).toBe("0");
    // Nothing valid: no table (the last good one stays).
    expect(wasm.str("directiveKept", "reviews", "1:1").split("|")[0]).toBe("");
  });

  it("validates a Directive with the same rules", () => {
    expect(wasm.str("directiveErrors", "reviews", "default/reviews", "stable,canary", "9000,1000")).toBe(
      "ok v7",
    );
    expect(wasm.str("directiveErrors", "reviews", "default/reviews", "stable,canary", "9000,12000")).toBe(
      "routes[0].variants[1].weight: must be an integer 0..10000, got 12000\n" +
        "routes[0].variants: weights must sum to 10000, got 21000",
    );
    expect(wasm.str("directiveErrors", "", "bad", "Stable", "10000")).toBe(
      "routes[0].host: must be a non-empty string\n" +
        'routes[0].canary: must be "<namespace>/<name>", got "bad"\n' +
        'routes[0].variants[0].name: must match [a-z0-9]([-a-z0-9]*[a-z0-9])? (at most 63 characters), got "Stable"',
    );
  });

  it.each([
    ["", "ok v7"],
    ["0123456789abcdef0123456789abcdef", "ok v7"],
    [
      "0123456789ABCDEF0123456789ABCDEF",
      'routes[0].marker: must be 32 lower-case hex digits, got "0123456789ABCDEF0123456789ABCDEF"',
    ],
    ["canary", 'routes[0].marker: must be 32 lower-case hex digits, got "canary"'],
  ])("checks a Directive route's marker %j", (marker, expected) => {
    expect(wasm.str("directiveMarkerErrors", marker)).toBe(expected);
  });
});

describe("split", () => {
  const text = config([route({ sticky: { header: "x-user-id" }, aliases: ["reviews.example.com"] })]);
  const d = (authority: string, pin = ABSENT, cookie = ABSENT, key = ABSENT, draw = 0) =>
    wasm.str("decideFor", text, authority, pin, cookie, key, draw);

  it.each([
    ["reviews.default.svc.cluster.local", "stable"],
    ["REVIEWS.default.svc.cluster.local:9080", "stable"],
    ["reviews:9080", "stable"],
    ["reviews", "stable"],
    ["reviews.default", "stable"],
    ["reviews.default.svc", "stable"],
    ["reviews.example.com:443", "stable"],
    ["ratings:9080", ""],
    ["reviews.other", ""],
    ["", ""],
    ["[::1]:9080", ""],
  ])("route lookup %s", (authority, expected) => {
    expect(d(authority)).toBe(expected);
  });

  it.each([
    ["canary", ABSENT, "canary"],
    [ABSENT, "canary", "canary"],
    ["stable", "canary", "stable"],
    ["nope", "canary", "canary"],
    ["nope", "nope", "stable"],
  ])("pin header %j cookie %j -> %s (draw would say stable)", (pin, cookie, expected) => {
    expect(d("reviews", pin, cookie, ABSENT, 0)).toBe(expected);
  });

  it("ignores pins on requireToken routes (tokens not implemented yet)", () => {
    const t = config([route({ pin: { requireToken: true } })]);
    expect(wasm.str("decideFor", t, "reviews", "canary", "canary", ABSENT, 0)).toBe("stable");
  });

  it("uses the weighted draw with contiguous ranges, canary at the top", () => {
    expect(d("reviews", ABSENT, ABSENT, ABSENT, 0)).toBe("stable");
    expect(d("reviews", ABSENT, ABSENT, ABSENT, 8999)).toBe("stable");
    expect(d("reviews", ABSENT, ABSENT, ABSENT, 9000)).toBe("canary");
    expect(d("reviews", ABSENT, ABSENT, ABSENT, 9999)).toBe("canary");
  });

  it("maps random bits uniformly onto [0, 10000)", () => {
    expect(wasm.u32("randomBucket", 0)).toBe(0);
    expect(wasm.u32("randomBucket", -1)).toBe(9999);
    expect(wasm.u32("randomBucket", 0x80000000 | 0)).toBe(5000);
  });

  it("sticky: a key decides by its bucket, independent of the draw", () => {
    const a = d("reviews", ABSENT, ABSENT, "user-1", 0);
    expect(d("reviews", ABSENT, ABSENT, "user-1", 9999)).toBe(a);
    const bucket = wasm.u32("stickyBucket", "default/reviews", "user-1");
    expect(a).toBe(bucket >= 9000 ? "canary" : "stable");
  });
});

describe("cookies", () => {
  it.each([
    ["a=1; b=2", "b", "2"],
    ["a=1;b=2", "a", "1"],
    ["  meshcanary-pin = canary ;x=y", "meshcanary-pin", "canary"],
    ['q="quoted value"', "q", "quoted value"],
    ["a=1; a=2", "a", "1"],
    ["aa=1; a=2", "a", "2"],
    ["a", "a", ABSENT],
    ["", "a", ABSENT],
    ["a=", "a", ""],
    ["x=a=b", "x", "a=b"],
    [";;; ; a=1", "a", "1"],
    ["b=1", "a", ABSENT],
  ])("%j %s -> %j", (header, name, expected) => {
    expect(wasm.str("cookie", header, name)).toBe(expected);
  });
});

describe("sketch", () => {
  it("quantiles are within 1% of the exact values and match the TypeScript sketch", () => {
    wasm.call("sketchReset");
    const ts = emptySketch();
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 20000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const v = Math.exp((x / 2 ** 32) * 14); // 1 .. 1.2e6, log-uniform
      values.push(v);
      wasm.call("sketchAdd", v);
      tsRecord(ts, v);
    }
    values.sort((a, b) => a - b);
    for (const q of [0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1]) {
      const exact = values[Math.max(1, Math.ceil(q * values.length)) - 1];
      const got = wasm.call("sketchQuantile", q) as number;
      expect(Math.abs(got - exact) / exact).toBeLessThan(0.01);
      expect(got).toBeCloseTo(tsQuantile(ts, q), 6);
    }
    expect(wasm.call("sketchIndexesSorted")).toBe(1);
    expect(wasm.call("sketchBuckets")).toBe(ts.buckets.size);
  });

  it("puts values below 1 in the zero bucket", () => {
    wasm.call("sketchReset");
    for (const v of [0, 0.5, 0.99, Number.NaN, -3]) wasm.call("sketchAdd", v);
    wasm.call("sketchAdd", 100);
    expect(wasm.call("sketchQuantile", 0.5)).toBe(0);
    expect(Math.abs((wasm.call("sketchQuantile", 1) as number) - 100) / 100).toBeLessThan(0.01);
    expect(wasm.call("sketchBuckets")).toBe(1);
    wasm.call("sketchReset");
    expect(Number.isNaN(wasm.call("sketchQuantile", 0.5))).toBe(true);
  });
});

describe("tally", () => {
  it.each([
    [200, 0, "", false],
    [404, 0, "", false],
    [429, 0, "429", true],
    [500, 0, "", true],
    [503, 0, "", true],
    [-1, 0, "", true],
    [0, 0, "", true],
    [200, 0x20, "", true], // UF upstream connection failure
    [200, 0x80, "", true], // UO overflow
    [200, 0x10, "", true], // UR remote reset
    [200, 0x8000, "", true], // URX retry limit
    [200, 0x4000, "", false], // DC downstream termination: not the variant's fault
    [200, 0x800, "", false], // RL rate limited locally
  ])("code %i flags %i codes %j -> failure %s", (code, flags, codes, expected) => {
    expect(wasm.call("failure", code, BigInt(flags), codes)).toBe(expected ? 1 : 0);
  });

  it.each([
    ["42", 42],
    [" 1.5 ", 1.5],
    ["-3", -3],
    ["1e3", 1000],
    ["", Number.NaN],
    ["abc", Number.NaN],
    ["12abc", Number.NaN],
    ["1".repeat(100), Number.NaN],
  ])("metric header %j -> %d", (s, expected) => {
    const got = wasm.call("metricValue", s) as number;
    if (Number.isNaN(expected)) expect(Number.isNaN(got)).toBe(true);
    else expect(got).toBe(expected);
  });

  it("counts status classes, failures, bytes, latency and metrics", () => {
    const text = config([route({ failureCodes: [429], metrics: [{ name: "tokens", header: "x-tokens" }] })]);
    wasm.call("tallyReset");
    const add = (code: number, flags: number, ns: number, bytes: number, metric: number) =>
      wasm.call("tallyAdd", text, code, BigInt(flags), BigInt(ns), BigInt(bytes), metric);
    add(200, 0, 1_500_000, 10, 100);
    add(101, 0, 2_000_000, 0, Number.NaN);
    add(302, 0, 500, 5, 7);
    add(429, 0, 1_000_000, 1, Number.NaN);
    add(503, 0, 3_000_000, 2, Number.NaN);
    add(-1, 0x20, -1, 0, Number.NaN);
    const t = JSON.parse(wasm.str("tallyJson"));
    expect(t).toMatchObject({
      requests: 6,
      failures: 3,
      statusNone: 1,
      status1xx: 1,
      status2xx: 1,
      status3xx: 1,
      status4xx: 1,
      status5xx: 1,
      responseBytes: 18,
    });
    expect(t.latencyUs.count).toBe(5);
    expect(t.latencyUs.zeroCount).toBe(1); // 0.5 µs
    expect(t.latencyUs.sum).toBeCloseTo(1500 + 2000 + 0.5 + 1000 + 3000, 6);
    expect(t.metrics).toHaveLength(1);
    expect(t.metrics[0]).toMatchObject({ name: "tokens", count: 2, sum: 107 });
  });
});
