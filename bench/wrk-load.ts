/**
 * wrk runs of the Envoy benchmarks: every request carries a sticky key from 10,000 users
 * (bench/fixtures/wrk-sticky-users.lua), either as fast as Envoy answers (throughput and CPU per
 * request) or paced — each connection sends its next request a fixed pause after the previous
 * response, wrk's Lua delay() — which holds the rate near connections × 1000 / pause per second
 * while latency stays far below the pause. wrk cannot hold an open-loop rate (that is wrk2), so the
 * paced figures are latencies at that near-fixed rate, not under a schedule independent of replies.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { parseWrk, type WrkResult } from "./sidecar-overhead.js";

/** One wrk run. */
export interface WrkLoad {
  url: string;
  host: string;
  seconds: number;
  connections: number;
  /** Per-connection pause after each response, ms; 0 = closed loop at full speed. */
  pauseMs: number;
}

/** The figures of a run, with its wall time; failed requests make it an error. */
export async function runWrk(wrk: string, load: WrkLoad): Promise<WrkResult & { seconds: number }> {
  const script = resolve("bench/fixtures/wrk-sticky-users.lua");
  const args = [
    "-t1",
    `-c${load.connections}`,
    `-d${load.seconds}s`,
    "--latency",
    "-H",
    `Host: ${load.host}`,
    "-s",
    script,
    load.url,
    ...(load.pauseMs > 0 ? ["--", String(load.pauseMs)] : []),
  ];
  const t0 = performance.now();
  const text = await new Promise<string>((res, rej) =>
    execFile(wrk, args, { timeout: (load.seconds + 30) * 1000 }, (err, stdout) =>
      err ? rej(err) : res(stdout),
    ),
  );
  const r = parseWrk(text);
  if (r instanceof Error) throw r;
  // Latency of failed requests says nothing about the proxy's cost.
  if (r.errors > 0) throw new Error(`${load.url}: ${r.errors} of ${r.requests} requests failed under wrk`);
  return { ...r, seconds: (performance.now() - t0) / 1000 };
}
