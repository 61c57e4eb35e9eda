/**
 * The controller's Prometheus registry. Every canary gauge is computed at scrape time from the
 * injected sources, so the registry holds no state of its own that could drift from the controller.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { WindowPoint } from "../telemetry/types.js";
import { summarize, type VariantSummary, WINDOW_MS } from "./series.js";
import { type CanarySummary, type IngestCounts, PHASES } from "./types.js";

export interface MetricsSources {
  /** The canaries to report (usually ApiBackend.listCanaries). */
  canaries(): CanarySummary[];
  /** Telemetry windows of a canary with startMs in [fromMs, toMs). */
  windows(namespace: string, name: string, fromMs: number, toMs: number): WindowPoint[];
  /** Telemetry ingest counters; omit when this process does not ingest. */
  ingest?: () => IngestCounts;
  /** Seconds of complete windows the rate and quantile gauges cover; default 10. */
  windowSeconds?: number;
  /** Include prom-client's default process metrics (process_*, nodejs_*); default true. */
  defaultMetrics?: boolean;
  /** Clock (Unix ms); injectable for tests. */
  now?: () => number;
}

type VariantLabels = { namespace: string; name: string; variant: string };

/** Summaries of the last complete windows of every canary. */
function recentSummaries(
  src: MetricsSources,
): Array<{ c: CanarySummary; variants: Map<string, VariantSummary> }> {
  const spanMs = (src.windowSeconds ?? 10) * 1000;
  // The current second is still filling: end at the last complete window.
  const toMs = Math.floor((src.now ?? Date.now)() / WINDOW_MS) * WINDOW_MS;
  return src.canaries().map((c) => ({
    c,
    variants: summarize(src.windows(c.namespace, c.name, toMs - spanMs, toMs), spanMs),
  }));
}

function eachVariant(src: MetricsSources, fn: (labels: VariantLabels, v: VariantSummary) => void): void {
  for (const { c, variants } of recentSummaries(src)) {
    for (const [variant, v] of variants) fn({ namespace: c.namespace, name: c.name, variant }, v);
  }
}

function canaryGauges(reg: Registry, src: MetricsSources): void {
  new Gauge({
    name: "meshcanary_canary_weight_percent",
    help: "Share of the host's traffic sent to the canary, percent",
    labelNames: ["namespace", "name"],
    registers: [reg],
    collect() {
      this.reset();
      for (const c of src.canaries()) this.set({ namespace: c.namespace, name: c.name }, c.canaryWeight);
    },
  });
  new Gauge({
    name: "meshcanary_canary_step",
    help: "Index of the current rollout step (0-based)",
    labelNames: ["namespace", "name"],
    registers: [reg],
    collect() {
      this.reset();
      for (const c of src.canaries()) this.set({ namespace: c.namespace, name: c.name }, c.step);
    },
  });
  new Gauge({
    name: "meshcanary_canary_phase",
    help: "Rollout phase as a state set: 1 on the current phase, 0 on the others",
    labelNames: ["namespace", "name", "phase"],
    registers: [reg],
    collect() {
      this.reset();
      for (const c of src.canaries()) {
        const phases: string[] = [...PHASES];
        if (!phases.includes(c.phase)) phases.push(c.phase);
        for (const phase of phases) {
          this.set({ namespace: c.namespace, name: c.name, phase }, phase === c.phase ? 1 : 0);
        }
      }
    },
  });
}

function variantGauges(reg: Registry, src: MetricsSources): void {
  new Gauge({
    name: "meshcanary_variant_requests_per_second",
    help: "Requests per second of a variant over the last complete telemetry windows",
    labelNames: ["namespace", "name", "variant"],
    registers: [reg],
    collect() {
      this.reset();
      eachVariant(src, (labels, v) => this.set(labels, v.rps));
    },
  });
  new Gauge({
    name: "meshcanary_variant_failure_ratio",
    help: "Failed / total requests of a variant over the last complete windows (absent without requests)",
    labelNames: ["namespace", "name", "variant"],
    registers: [reg],
    collect() {
      this.reset();
      eachVariant(src, (labels, v) => {
        if (v.failureRate !== null) this.set(labels, v.failureRate);
      });
    },
  });
  new Gauge({
    name: "meshcanary_variant_latency_seconds",
    help: "Request duration quantiles of a variant over the last complete windows",
    labelNames: ["namespace", "name", "variant", "quantile"],
    registers: [reg],
    collect() {
      this.reset();
      eachVariant(src, (labels, v) => {
        for (const [q, ms] of v.latencyMs) {
          if (ms !== null) this.set({ ...labels, quantile: String(q) }, ms / 1000);
        }
      });
    },
  });
  new Gauge({
    name: "meshcanary_variant_metric_per_request",
    help: "Mean value per request of a custom response metric (spec.metrics) over the last complete windows",
    labelNames: ["namespace", "name", "variant", "metric"],
    registers: [reg],
    collect() {
      this.reset();
      eachVariant(src, (labels, v) => {
        for (const [metric, mean] of v.metricMeans) this.set({ ...labels, metric }, mean);
      });
    },
  });
}

function ingestMetrics(reg: Registry, ingest: () => IngestCounts): void {
  // Counters mirror the ingest's own monotonic totals: reset and re-add them on every scrape.
  new Counter({
    name: "meshcanary_telemetry_reports_total",
    help: "Telemetry reports received, by outcome (accepted, ignored, rejected)",
    labelNames: ["outcome"],
    registers: [reg],
    collect() {
      const s = ingest();
      const rejected = Object.values(s.rejected).reduce((a, b) => a + b, 0);
      this.reset();
      this.inc({ outcome: "accepted" }, s.accepted);
      this.inc({ outcome: "ignored" }, s.ignored);
      this.inc({ outcome: "rejected" }, rejected);
    },
  });
  new Counter({
    name: "meshcanary_telemetry_reports_rejected_total",
    help: "Telemetry reports rejected, by reason",
    labelNames: ["reason"],
    registers: [reg],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(ingest().rejected)) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: "meshcanary_telemetry_entries_dropped_total",
    help: "Entries (canary, variant) dropped from otherwise used telemetry reports, by reason",
    labelNames: ["reason"],
    registers: [reg],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(ingest().droppedEntries)) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: "meshcanary_telemetry_streams_refused_total",
    help: "Telemetry streams refused before any report, by reason (token, not_serving)",
    labelNames: ["reason"],
    registers: [reg],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(ingest().refusedStreams)) this.inc({ reason }, n);
    },
  });
  new Gauge({
    name: "meshcanary_telemetry_streams",
    help: "Open telemetry Connect streams",
    registers: [reg],
    collect() {
      this.set(ingest().streams);
    },
  });
  new Gauge({
    name: "meshcanary_telemetry_reporters",
    help: "Filter instances currently reporting",
    registers: [reg],
    collect() {
      this.set(ingest().reporters);
    },
  });
}

/** A registry with the canary, variant, ingest and (by default) process metrics. */
export function createMetricsRegistry(src: MetricsSources): Registry {
  const reg = new Registry();
  canaryGauges(reg, src);
  variantGauges(reg, src);
  if (src.ingest) ingestMetrics(reg, src.ingest);
  if (src.defaultMetrics ?? true) collectDefaultMetrics({ register: reg });
  return reg;
}
