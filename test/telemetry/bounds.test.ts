import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { type Report, SketchSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import {
  type BoundsConfig,
  checkEntries,
  checkReport,
  DEFAULT_BOUNDS,
} from "../../controller/telemetry/bounds.js";
import { makeReport } from "./fixtures.js";

const known = new Set(["ns/web", "other/api"]);
const cfg: BoundsConfig = { ...DEFAULT_BOUNDS, isKnownCanary: (id) => known.has(id) };

function base(): Report {
  return makeReport({
    seq: 1,
    totals: [{ requests: 10, failures: 1, latenciesUs: [5, 50, 500], tokens: [3, 30] }],
  });
}

type Case = [
  name: string,
  mutate: (r: Report) => void,
  reason: string,
  field: string,
  c?: Partial<BoundsConfig>,
];

const cases: Case[] = [
  ["missing reporter", (r) => (r.reporter = undefined), "missing_reporter", "reporter"],
  ["empty instance id", (r) => (r.reporter!.instanceId = ""), "missing_reporter", "reporter"],
  ["long pod name", (r) => (r.reporter!.pod = "p".repeat(300)), "string_too_long", "reporter.pod"],
  ["unknown canary", (r) => (r.totals[0]!.canary = "ns/nope"), "unknown_canary", "totals[0].canary"],
  [
    "more failures than requests",
    (r) => (r.totals[0]!.failures = 11n),
    "impossible_counts",
    "totals[0].failures",
  ],
  [
    "status classes not summing to requests",
    (r) => (r.totals[0]!.status4xx = 1n),
    "impossible_counts",
    "totals[0].status",
  ],
  [
    "more latencies than requests",
    (r) => {
      // Consistent counters for 2 requests, but the 3 latencies of the base entry.
      Object.assign(r.totals[0]!, { requests: 2n, failures: 1n, status2xx: 1n, status5xx: 1n });
      r.totals[0]!.metrics = [];
    },
    "impossible_counts",
    "totals[0].latency_us.count",
  ],
  [
    "non-finite metric sum",
    (r) => (r.totals[0]!.metrics[0]!.sum = Number.POSITIVE_INFINITY),
    "bad_sum",
    "totals[0].metrics[0].sum",
  ],
  [
    "NaN latency sum",
    (r) => (r.totals[0]!.latencyUs!.sum = Number.NaN),
    "bad_sum",
    "totals[0].latency_us.sum",
  ],
  ["empty variant", (r) => (r.totals[0]!.variant = ""), "missing_variant", "totals[0].variant"],
  ["duplicate variant", (r) => r.totals.push({ ...r.totals[0]! }), "duplicate_variant", "totals[1].variant"],
  [
    "nine variants of one canary",
    (r) => {
      for (let i = 1; i < 9; i++) r.totals.push({ ...r.totals[0]!, variant: `v${i}` });
    },
    "too_many_variants",
    "totals[8].variant",
  ],
  [
    "too many totals",
    (r) => {
      for (let i = 1; i < 5; i++) r.totals.push({ ...r.totals[0]!, canary: "ns/web", variant: `v${i}` });
    },
    "too_many_totals",
    "totals",
    { maxTotals: 4 },
  ],
  ["counter above 2^53", (r) => (r.totals[0]!.requests = 2n ** 60n), "counter_range", "totals[0].requests"],
  [
    "bucket bomb",
    (r) => {
      const n = 5000;
      r.totals[0]!.latencyUs = create(SketchSchema, {
        count: BigInt(n),
        indexes: Array.from({ length: n }, (_, i) => i),
        counts: Array.from({ length: n }, () => 1n),
      });
    },
    "sketch_buckets",
    "totals[0].latency_us.indexes",
  ],
  [
    "indexes not ascending",
    (r) => (r.totals[0]!.latencyUs = create(SketchSchema, { count: 2n, indexes: [5, 5], counts: [1n, 1n] })),
    "sketch_order",
    "totals[0].latency_us.indexes[1]",
  ],
  [
    "counts not parallel",
    (r) => (r.totals[0]!.latencyUs = create(SketchSchema, { count: 1n, indexes: [5, 6], counts: [1n] })),
    "sketch_shape",
    "totals[0].latency_us.counts",
  ],
  [
    "bucket sum != count - zero_count",
    (r) =>
      (r.totals[0]!.latencyUs = create(SketchSchema, {
        count: 9n,
        zeroCount: 1n,
        indexes: [5],
        counts: [7n],
      })),
    "sketch_counts",
    "totals[0].latency_us.counts",
  ],
  [
    "bucket count above 2^53 (summed as numbers)",
    (r) =>
      (r.totals[0]!.latencyUs = create(SketchSchema, {
        count: 2n,
        indexes: [5, 6],
        counts: [2n ** 60n, 2n - 2n ** 60n + 2n ** 64n],
      })),
    "sketch_counts",
    "totals[0].latency_us.counts",
  ],
  [
    "variants counted per canary, with other canaries interleaved",
    (r) => {
      const t = r.totals[0]!;
      r.totals.push({ ...t, canary: "other/api" }, { ...t, canary: "other/api", variant: "v1" });
      r.totals.push({ ...t, variant: "v1" }, { ...t, variant: "v2" });
    },
    "too_many_variants",
    "totals[4].variant",
    { maxVariantsPerCanary: 2 },
  ],
  [
    "metric sketch broken",
    (r) => (r.totals[0]!.metrics[0]!.sketch!.count += 1n),
    "sketch_counts",
    "totals[0].metrics[0].sketch.counts",
  ],
  [
    "eighteen metrics (8 header + 9 llm-* is the most a route has)",
    (r) => {
      const m = r.totals[0]!.metrics[0]!;
      for (let i = 1; i < 18; i++) r.totals[0]!.metrics.push({ ...m, name: `m${i}` });
    },
    "too_many_metrics",
    "totals[0].metrics",
  ],
  [
    "duplicate metric",
    (r) => r.totals[0]!.metrics.push({ ...r.totals[0]!.metrics[0]! }),
    "duplicate_metric",
    "totals[0].metrics[1].name",
  ],
  [
    "baseline of an unknown canary",
    (r) => r.baseline.push({ ...r.totals[0]!, canary: "ns/nope" }),
    "unknown_canary",
    "baseline[0].canary",
  ],
  [
    "baseline with a duplicate variant",
    (r) => r.baseline.push({ ...r.totals[0]! }, { ...r.totals[0]! }),
    "duplicate_variant",
    "baseline[1].variant",
  ],
  [
    "baseline counter above 2^53",
    (r) => r.baseline.push({ ...r.totals[0]!, failures: 2n ** 60n }),
    "counter_range",
    "baseline[0].failures",
  ],
  [
    "baseline sketch broken",
    (r) =>
      r.baseline.push({
        ...r.totals[0]!,
        latencyUs: create(SketchSchema, { count: 2n, indexes: [6, 5], counts: [1n, 1n] }),
      }),
    "sketch_order",
    "baseline[0].latency_us.indexes[1]",
  ],
  [
    "too many baseline entries",
    (r) => {
      for (let i = 0; i < 5; i++) r.baseline.push({ ...r.totals[0]!, variant: `v${i}` });
    },
    "too_many_totals",
    "baseline",
    { maxTotals: 4 },
  ],
  [
    "too many counters",
    (r) => {
      for (let i = 0; i < 65; i++) r.counters[`c${i}`] = 1n;
    },
    "too_many_counters",
    "counters",
  ],
];

/** Reasons that make the whole message unusable; every other violation drops only its entry. */
const WHOLE = new Set([
  "missing_reporter",
  "string_too_long",
  "too_many_totals",
  "too_many_counters",
  "message_too_large",
]);

/** The message-level violation, or else the first dropped entry's. */
function firstViolation(r: Report, c: BoundsConfig) {
  return checkReport(r, 100, c) ?? checkEntries(r, c)[0]?.violation ?? null;
}

describe("checkReport and checkEntries", () => {
  it("accept a well-formed report", () => {
    expect(checkReport(base(), 100, cfg)).toBeNull();
    expect(checkEntries(base(), cfg)).toEqual([]);
  });

  it.each(cases)("%s", (_name, mutate, reason, field, overrides) => {
    const r = base();
    mutate(r);
    const c = { ...cfg, ...overrides };
    const v = firstViolation(r, c);
    expect(v).toMatchObject({ reason, field });
    expect(v!.value.length).toBeGreaterThan(0);
    // Whole-message reasons come from checkReport; entry reasons leave the message usable.
    const entryLevel = !WHOLE.has(reason) || field.startsWith("totals[") || field.startsWith("baseline[");
    expect(checkReport(r, 100, c) === null).toBe(entryLevel);
  });

  it("accepts a well-formed baseline", () => {
    const r = base();
    r.baseline.push({ ...r.totals[0]!, requests: 4n, status2xx: 3n });
    expect(checkReport(r, 100, cfg)).toBeNull();
    expect(checkEntries(r, cfg)).toEqual([]);
  });

  it("rejects an oversized message", () => {
    expect(checkReport(base(), cfg.maxMessageBytes + 1, cfg)).toMatchObject({ reason: "message_too_large" });
  });

  it("accepts any reporter namespace for any known canary (callers and gateways report for others)", () => {
    const r = base();
    r.totals[0]!.canary = "other/api";
    r.reporter!.namespace = "istio-system";
    expect(checkReport(r, 100, cfg)).toBeNull();
    expect(checkEntries(r, cfg)).toEqual([]);
  });

  it("names every bad entry and only those, in totals and baseline", () => {
    const r = base();
    const good = r.totals[0]!;
    r.totals.push(
      { ...good, canary: "ns/gone" },
      { ...good, variant: "stable" },
      { ...good, variant: "v3", failures: 99n },
      { ...good, canary: "other/api" },
    );
    r.baseline.push({ ...good, canary: "ns/gone" }, { ...good });
    const dropped = checkEntries(r, cfg).map((d) => [d.list, d.index, d.violation.reason, d.violation.field]);
    expect(dropped).toEqual([
      ["totals", 1, "unknown_canary", "totals[1].canary"],
      ["totals", 3, "impossible_counts", "totals[3].failures"],
      ["baseline", 0, "unknown_canary", "baseline[0].canary"],
    ]);
  });
});
