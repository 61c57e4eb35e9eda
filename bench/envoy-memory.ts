/**
 * Memory of real Envoy running meshcanary over many requests (issue 12, DESIGN §7 "no growth"): the
 * meshcanary sidecar of bench/envoy-rig.ts with --concurrency 2 (Istio's test setting: two worker
 * VMs and the main-thread VM), closed-loop wrk with 10,000 sticky users, reporting to our telemetry
 * server every second. After every wrk segment: Envoy's RSS and the size of every Wasm VM's linear
 * memory (bench/proc-stats.ts; Envoy has no statistic for it). Growth is judged after a warm-up:
 * RSS by its least-squares slope in bytes per request, Wasm memory exactly (it only grows in whole
 * 64 KiB pages). The warm-up is needed: the filter's latency sketches are sparse and gain buckets
 * as new latencies appear, so its memory settles only after tens of thousands of requests. The baseline is Envoy without Wasm after the
 * warm-up's number of requests, for the memory the filter adds.
 */
import { findEnvoy } from "../sandbox/envoy/binary.js";
import type { EnvoySidecar } from "../sandbox/envoy/envoy-sidecar.js";
import { envoyBenchMissing } from "./envoy-overhead.js";
import {
  downstreamRequests,
  HOST,
  MESHCANARY_WASM,
  startBenchSidecar,
  startSink,
  startUpstream,
} from "./envoy-rig.js";
import { procSample, processWasmMemories } from "./proc-stats.js";
import { type Bench, type BenchContext, type BenchEntry, entry } from "./results.js";
import { wrkPath } from "./sidecar-overhead.js";
import { runWrk } from "./wrk-load.js";

/** RSS slope after warm-up, bytes per request: a leak of even one small allocation per request is ≥ 16. */
const GOAL_RSS_SLOPE = 0.1;
const CONNECTIONS = 16;
const MIB = 2 ** 20;

/** One reading after a wrk segment. */
export interface MemorySample {
  requests: number;
  rssBytes: number;
  /** Sum of the VMs' linear memories. */
  wasmBytes: number;
  vms: number;
}

function sizes(ctx: BenchContext) {
  if (ctx.mode === "full") return { requests: 10_000_000, warmup: 1_000_000, segmentSeconds: 20 };
  if (ctx.mode === "quick") return { requests: 60_000, warmup: 30_000, segmentSeconds: 2 };
  return { requests: 10_000, warmup: 5000, segmentSeconds: 1 };
}

/** Least-squares slope of y over x (0 with fewer than two distinct x). */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

async function sample(sidecar: EnvoySidecar): Promise<MemorySample> {
  const wasm = processWasmMemories(sidecar.process.pid);
  return {
    requests: await downstreamRequests(sidecar),
    rssBytes: procSample(sidecar.process.pid).rssBytes,
    wasmBytes: wasm.reduce((a, b) => a + b, 0),
    vms: wasm.length,
  };
}

/** Drives `sidecar` with wrk segments until it has completed `until` requests; a sample after each. */
async function drive(
  wrk: string,
  sidecar: EnvoySidecar,
  until: number,
  segmentSeconds: number,
  log: (s: string) => void,
) {
  const samples: MemorySample[] = [];
  let last = await sample(sidecar);
  while (last.requests < until) {
    await runWrk(wrk, {
      url: `${sidecar.url}/`,
      host: HOST,
      seconds: segmentSeconds,
      connections: CONNECTIONS,
      pauseMs: 0,
    });
    last = await sample(sidecar);
    samples.push(last);
    log(
      `envoy-memory: ${last.requests} requests, RSS ${(last.rssBytes / MIB).toFixed(1)} MiB, Wasm ${last.vms} x ${last.wasmBytes / Math.max(1, last.vms) / 1024} KiB`,
    );
  }
  return samples;
}

export const envoyMemory: Bench = {
  name: "envoy-memory",
  async run(ctx) {
    const missing = envoyBenchMissing(".", [MESHCANARY_WASM]);
    const envoy = findEnvoy(".");
    const wrk = wrkPath();
    if (missing || !envoy.ok || !wrk) {
      ctx.log(`envoy-memory: skipped: ${missing}`);
      return [];
    }
    const n = sizes(ctx);
    const warmup = n.warmup;
    const upstream = await startUpstream(envoy.path);
    const sink = await startSink();
    const start = (kind: "no-wasm" | "meshcanary") =>
      startBenchSidecar({ binary: envoy.path, kind, upstream, sink, concurrency: 2 });
    try {
      const bare = await start("no-wasm");
      let bareRss: number;
      try {
        bareRss = (await drive(wrk, bare, warmup, n.segmentSeconds, () => {})).at(-1)?.rssBytes ?? 0;
      } finally {
        await bare.close();
      }
      const sidecar = await start("meshcanary");
      const t0 = performance.now();
      try {
        ctx.log(
          `envoy-memory: ${n.requests} requests through meshcanary (Envoy ${envoy.version}, --concurrency 2)`,
        );
        const samples = await drive(wrk, sidecar, n.requests, n.segmentSeconds, ctx.log);
        const minutes = (performance.now() - t0) / 60_000;
        return memoryEntries(samples, warmup, bareRss, {
          full: ctx.mode === "full",
          note: `${envoy.version}, ${minutes.toFixed(1)} min, ${sink.stats().accepted} reports accepted`,
        });
      } finally {
        await sidecar.close();
      }
    } finally {
      await sink.close();
      await upstream.close();
    }
  },
};

/**
 * The entries of a run. The goals apply to the full run only: over tens of thousands of requests a
 * few pages of allocator noise weigh as much as a real leak, and the sketches are still settling.
 */
export function memoryEntries(
  samples: readonly MemorySample[],
  warmup: number,
  bareRss: number,
  opts: { full: boolean; note: string },
): BenchEntry[] {
  const after = samples.filter((s) => s.requests >= warmup);
  const measured = after.length >= 2 ? after : samples.slice(-2);
  const first = measured[0];
  const last = measured.at(-1);
  if (!first || !last) throw new Error("envoy-memory: no samples");
  const rssSlope = slope(measured.map((s) => ({ x: s.requests, y: s.rssBytes })));
  const wasmGrowth = last.wasmBytes - first.wasmBytes;
  const span = `${first.requests}..${last.requests} requests`;
  return [
    entry("envoy-memory.requests", last.requests, "requests", { note: opts.note }),
    entry("envoy-memory.rss", last.rssBytes / MIB, "MiB", {
      baseline: bareRss / MIB,
      note: "baseline: Envoy without Wasm after the warm-up's requests",
    }),
    entry("envoy-memory.rss-slope", rssSlope, "bytes per request", {
      goal: opts.full ? `<= ${GOAL_RSS_SLOPE}` : null,
      met: rssSlope <= GOAL_RSS_SLOPE,
      note: `least squares over ${measured.length} samples, ${span}; RSS ${(first.rssBytes / MIB).toFixed(1)} → ${(last.rssBytes / MIB).toFixed(1)} MiB`,
    }),
    entry("envoy-memory.wasm-memory", last.wasmBytes, "bytes of linear memory", {
      note: `${last.vms} VMs at the end (Envoy has no statistic for it: /proc/<pid>/maps)`,
    }),
    entry("envoy-memory.wasm-growth", wasmGrowth, "bytes of linear memory", {
      goal: opts.full ? "== 0" : null,
      met: wasmGrowth === 0 && last.vms === first.vms && last.vms > 0,
      note: `${last.vms} VMs, ${last.wasmBytes} bytes in all, over ${span}`,
    }),
  ];
}
