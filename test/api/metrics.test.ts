import { describe, expect, it } from "vitest";
import { createMetricsRegistry } from "../../controller/api/metrics.js";
import type { IngestCounts } from "../../controller/api/types.js";
import type { WindowPoint } from "../../controller/telemetry/types.js";
import { FakeBackend, sampleCanary } from "./fake-backend.js";
import { times, windowOf } from "./windows-fixture.js";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (enough of it for these metrics: no escaped quotes in labels). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  )?.value;
}

const NOW = Date.UTC(2025, 0, 1, 12, 0, 10, 400);
const SECOND = Math.floor(NOW / 1000) * 1000;

function setup(ingest?: () => IngestCounts) {
  const backend = new FakeBackend();
  backend.add(sampleCanary("shop", "checkout"));
  const paused = sampleCanary("ml", "ranker");
  paused.phase = "Paused";
  paused.canaryWeight = 50;
  backend.add(paused);
  const calls: Array<{ ns: string; name: string; from: number; to: number }> = [];
  const windows: WindowPoint[] = [
    windowOf(SECOND - 2000, {
      stable: [...times(190, { ms: 20, metrics: { tokens: 100 } }), ...times(10, { ms: 300, failed: true })],
      canary: times(50, { ms: 40 }),
    }),
    windowOf(SECOND - 1000, { canary: [...times(48, { ms: 40 }), ...times(2, { ms: 2000, failed: true })] }),
  ];
  const reg = createMetricsRegistry({
    canaries: () => backend.listCanaries(),
    windows: (ns, name, from, to) => {
      calls.push({ ns, name, from, to });
      return ns === "shop" ? windows : [];
    },
    ingest,
    windowSeconds: 10,
    defaultMetrics: false,
    now: () => NOW,
  });
  return { reg, calls, backend };
}

describe("metrics registry", () => {
  it("exposes weight, step and phase state set per canary", async () => {
    const { reg } = setup();
    const s = parse(await reg.metrics());
    expect(value(s, "meshcanary_canary_weight_percent", { namespace: "shop", name: "checkout" })).toBe(25);
    expect(value(s, "meshcanary_canary_weight_percent", { namespace: "ml", name: "ranker" })).toBe(50);
    expect(value(s, "meshcanary_canary_step", { namespace: "shop", name: "checkout" })).toBe(1);
    const phases = s.filter((x) => x.name === "meshcanary_canary_phase" && x.labels.name === "ranker");
    expect(phases).toHaveLength(8);
    expect(phases.filter((p) => p.value === 1).map((p) => p.labels.phase)).toEqual(["Paused"]);
  });

  it("computes variant rates, failure ratios, latency quantiles and metric means from the last complete windows", async () => {
    const { reg, calls } = setup();
    const s = parse(await reg.metrics());
    // 10 s span ending at the start of the current (incomplete) second.
    expect(calls).toContainEqual({ ns: "shop", name: "checkout", from: SECOND - 10_000, to: SECOND });
    const stable = { namespace: "shop", name: "checkout", variant: "stable" };
    const canary = { namespace: "shop", name: "checkout", variant: "canary" };
    expect(value(s, "meshcanary_variant_requests_per_second", stable)).toBe(20);
    expect(value(s, "meshcanary_variant_requests_per_second", canary)).toBe(10);
    expect(value(s, "meshcanary_variant_failure_ratio", stable)).toBe(0.05);
    expect(value(s, "meshcanary_variant_failure_ratio", canary)).toBe(0.02);
    const p50 = value(s, "meshcanary_variant_latency_seconds", { ...canary, quantile: "0.5" })!;
    const p99 = value(s, "meshcanary_variant_latency_seconds", { ...canary, quantile: "0.99" })!;
    expect(Math.abs(p50 - 0.04) / 0.04).toBeLessThan(0.011);
    expect(Math.abs(p99 - 2) / 2).toBeLessThan(0.011);
    expect(value(s, "meshcanary_variant_metric_per_request", { ...stable, metric: "tokens" })).toBe(95);
    // No telemetry for ml/ranker: no variant series at all rather than zeros.
    expect(s.some((x) => x.name.startsWith("meshcanary_variant_") && x.labels.name === "ranker")).toBe(false);
  });

  it("follows the canaries on every scrape", async () => {
    const { reg, backend } = setup();
    backend.canaries.delete("ml/ranker");
    backend.canaries.get("shop/checkout")!.canaryWeight = 50;
    const s = parse(await reg.metrics());
    expect(value(s, "meshcanary_canary_weight_percent", { namespace: "shop", name: "checkout" })).toBe(50);
    expect(s.some((x) => x.labels.name === "ranker")).toBe(false);
  });

  it("mirrors the ingest counters", async () => {
    let counts: IngestCounts = {
      reports: 12,
      accepted: 9,
      ignored: 1,
      rejected: { undecodable: 2 },
      droppedEntries: { unknown_canary: 7 },
      refusedStreams: { token: 5 },
      streams: 3,
      reporters: 4,
    };
    const { reg } = setup(() => counts);
    let s = parse(await reg.metrics());
    expect(value(s, "meshcanary_telemetry_reports_total", { outcome: "accepted" })).toBe(9);
    expect(value(s, "meshcanary_telemetry_reports_total", { outcome: "ignored" })).toBe(1);
    expect(value(s, "meshcanary_telemetry_reports_total", { outcome: "rejected" })).toBe(2);
    expect(value(s, "meshcanary_telemetry_reports_rejected_total", { reason: "undecodable" })).toBe(2);
    expect(value(s, "meshcanary_telemetry_entries_dropped_total", { reason: "unknown_canary" })).toBe(7);
    expect(value(s, "meshcanary_telemetry_streams_refused_total", { reason: "token" })).toBe(5);
    expect(value(s, "meshcanary_telemetry_streams", {})).toBe(3);
    expect(value(s, "meshcanary_telemetry_reporters", {})).toBe(4);

    counts = { ...counts, accepted: 20, rejected: { undecodable: 2, too_large: 1 } };
    s = parse(await reg.metrics());
    expect(value(s, "meshcanary_telemetry_reports_total", { outcome: "accepted" })).toBe(20);
    expect(value(s, "meshcanary_telemetry_reports_rejected_total", { reason: "too_large" })).toBe(1);
  });

  it("includes the default process metrics unless disabled", async () => {
    const backend = new FakeBackend();
    const reg = createMetricsRegistry({ canaries: () => backend.listCanaries(), windows: () => [] });
    const text = await reg.metrics();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_heap_size_used_bytes");
    expect(text).not.toContain("meshcanary_telemetry_");
  });
});
