import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { type Report, SketchSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { type BoundsConfig, checkReport, DEFAULT_BOUNDS } from "../../controller/telemetry/bounds.js";
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
  ["foreign namespace", (r) => (r.totals[0]!.canary = "other/api"), "foreign_namespace", "totals[0].canary"],
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
    { maxVariantsPerCanary: 2, enforceNamespace: false },
  ],
  [
    "metric sketch broken",
    (r) => (r.totals[0]!.metrics[0]!.sketch!.count += 1n),
    "sketch_counts",
    "totals[0].metrics[0].sketch.counts",
  ],
  [
    "nine metrics",
    (r) => {
      const m = r.totals[0]!.metrics[0]!;
      for (let i = 1; i < 9; i++) r.totals[0]!.metrics.push({ ...m, name: `m${i}` });
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

describe("checkReport", () => {
  it("accepts a well-formed report", () => {
    expect(checkReport(base(), 100, cfg)).toBeNull();
  });

  it.each(cases)("%s", (_name, mutate, reason, field, overrides) => {
    const r = base();
    mutate(r);
    const v = checkReport(r, 100, { ...cfg, ...overrides });
    expect(v).toMatchObject({ reason, field });
    expect(v!.value.length).toBeGreaterThan(0);
  });

  it("accepts a well-formed baseline", () => {
    const r = base();
    r.baseline.push({ ...r.totals[0]!, requests: 4n });
    expect(checkReport(r, 100, cfg)).toBeNull();
  });

  it("rejects an oversized message", () => {
    expect(checkReport(base(), cfg.maxMessageBytes + 1, cfg)).toMatchObject({ reason: "message_too_large" });
  });

  it("lets an allow-listed namespace, or a disabled policy, report other namespaces' canaries", () => {
    const r = base();
    r.totals[0]!.canary = "other/api";
    expect(checkReport(r, 100, { ...cfg, crossNamespaceAllowed: new Set(["ns"]) })).toBeNull();
    expect(checkReport(r, 100, { ...cfg, enforceNamespace: false })).toBeNull();
  });
});
