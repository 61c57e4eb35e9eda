/**
 * Sidecar overhead (DESIGN §7 "filter overhead in Envoy terms", measured in the sandbox): `wrk` on
 * loopback against (a) the app directly — the floor, (b) the sandbox sidecar running the filter
 * with an empty configuration (the wasm callbacks run, no route matches), (c) the sidecar with a
 * 90/10 canary route. Figures: p50/p99 latency and CPU per request of this process (app, sidecar
 * and host share it, so differences are the added cost). The filter's added p50 is (c) − (b).
 * Skipped with a printed reason when wrk is absent (Debian: apt-get install -y wrk).
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type DemoApp, startDemoApp } from "../sandbox/apps/demo-app.js";
import { loadHost } from "../sandbox/host/index.js";
import { endpointKey, startSidecar } from "../sandbox/sidecar/sidecar.js";
import type { VirtualServiceSpec } from "../sandbox/sidecar/virtual-service-router.js";
import { type Bench, type BenchContext, type BenchEntry, entry } from "./results.js";

const HOST = "reviews.default.svc.cluster.local";
const VARIANT = "x-meshcanary-variant";
/** DESIGN §7: the filter adds at most 25 µs at p50. */
const GOAL_ADDED_P50_MS = 0.025;

const ROUTE_CONFIG = JSON.stringify({
  routes: [
    {
      host: HOST,
      canary: "default/reviews",
      variants: [
        { name: "stable", weight: 9000 },
        { name: "canary", weight: 1000 },
      ],
    },
  ],
});

/** The VirtualService as meshcanary renders it: a header route per variant, then the default. */
const VIRTUAL_SERVICE: VirtualServiceSpec = {
  hosts: [HOST],
  http: ["canary", "stable"].map((v) => ({
    name: `meshcanary-${v}`,
    match: [{ headers: { [VARIANT]: { exact: v } } }],
    route: [{ destination: { host: HOST, subset: v } }],
  })),
};
VIRTUAL_SERVICE.http?.push({ name: "default", route: [{ destination: { host: HOST, subset: "stable" } }] });

/** One wrk run's figures. */
export interface WrkResult {
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx/3xx responses plus socket errors. */
  errors: number;
}

function toMs(value: string, unit: string): number {
  const scale: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
  const f = scale[unit];
  if (f === undefined) throw new Error(`wrk: unknown latency unit ${JSON.stringify(unit)}`);
  return Number(value) * f;
}

/** Parses `wrk --latency` output; an error value names what is missing. */
export function parseWrk(text: string): WrkResult | Error {
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(text);
    return m ? toMs(m[1], m[2]) : undefined;
  };
  const total = /^\s*(\d+) requests in /m.exec(text);
  const p50 = pct("50");
  const p99 = pct("99");
  if (p50 === undefined || p99 === undefined || !total) {
    return new Error(`wrk output without latency distribution or request count: ${text.slice(0, 200)}`);
  }
  const non2xx = /Non-2xx or 3xx responses:\s*(\d+)/.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((a, n) => a + Number(n), 0) : 0;
  return {
    p50Ms: p50,
    p99Ms: p99,
    requests: Number(total[1]),
    errors: Number(non2xx?.[1] ?? 0) + socketErrors,
  };
}

export function wrkPath(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v wrk"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Runs wrk against `url` and measures this process's CPU over the run. */
async function load(wrk: string, url: string, seconds: number) {
  const cpu0 = process.cpuUsage();
  const text = await new Promise<string>((res, rej) =>
    execFile(
      wrk,
      ["-t1", "-c16", `-d${seconds}s`, "--latency", "-H", `Host: ${HOST}`, url],
      { timeout: (seconds + 30) * 1000 },
      (err, stdout) => (err ? rej(err) : res(stdout)),
    ),
  );
  const cpu = process.cpuUsage(cpu0);
  const r = parseWrk(text);
  if (r instanceof Error) throw r;
  // Latency of failed requests says nothing about the proxy's cost.
  if (r.errors > 0) throw new Error(`${url}: ${r.errors} of ${r.requests} requests failed under wrk`);
  return { ...r, cpuUsPerRequest: (cpu.user + cpu.system) / r.requests };
}

async function startRouted(app: DemoApp, config: string) {
  const wasm = new Uint8Array(readFileSync(resolve("build/meshcanary.wasm")));
  const host = await loadHost({ module: wasm, pluginConfig: config, timers: "manual" });
  const address = `127.0.0.1:${app.port}`;
  const endpoints = new Map([
    [endpointKey(HOST, "stable"), address],
    [endpointKey(HOST, "canary"), address],
    [endpointKey(HOST, undefined), address],
  ]);
  const sidecar = await startSidecar({
    host,
    virtualServices: () => [VIRTUAL_SERVICE],
    endpoints: () => endpoints,
  });
  return {
    sidecar,
    close: async () => {
      await sidecar.close();
      await host.close();
    },
  };
}

function sizes(ctx: BenchContext) {
  if (ctx.mode === "full") return { seconds: 10, rounds: 3 };
  if (ctx.mode === "quick") return { seconds: 3, rounds: 2 };
  return { seconds: 1, rounds: 1 };
}

/** Per figure, the best of the rounds: interference from other work only ever adds. */
function best(runs: Load[]): Load {
  return {
    p50Ms: Math.min(...runs.map((r) => r.p50Ms)),
    p99Ms: Math.min(...runs.map((r) => r.p99Ms)),
    cpuUsPerRequest: Math.min(...runs.map((r) => r.cpuUsPerRequest)),
    requests: Math.max(...runs.map((r) => r.requests)),
    errors: 0,
  };
}

export const sidecarOverhead: Bench = {
  name: "sidecar-overhead",
  async run(ctx) {
    const wrk = wrkPath();
    if (!wrk) {
      ctx.log("sidecar-overhead: skipped: wrk not found (apt-get install -y wrk)");
      return [];
    }
    if (!existsSync(resolve("build/meshcanary.wasm"))) {
      ctx.log("sidecar-overhead: skipped: build/meshcanary.wasm missing (run make wasm)");
      return [];
    }
    const n = sizes(ctx);
    const app = await startDemoApp({
      version: "bench",
      behaviour: { latencyMedianMs: 0, latencySigma: 0, errorRate: 0 },
    });
    const empty = await startRouted(app, "");
    const routed = await startRouted(app, ROUTE_CONFIG);
    try {
      const runs: Record<"direct" | "empty" | "routed", Load[]> = { direct: [], empty: [], routed: [] };
      // Rounds alternate the three set-ups so slow phases of a shared machine hit all of them.
      for (let r = 0; r < n.rounds; r++) {
        ctx.log(`sidecar-overhead: round ${r + 1}/${n.rounds}, 3 x ${n.seconds} s`);
        runs.direct.push(await load(wrk, `${app.url}/`, n.seconds));
        runs.empty.push(await load(wrk, `${empty.sidecar.url}/`, n.seconds));
        runs.routed.push(await load(wrk, `${routed.sidecar.url}/`, n.seconds));
      }
      return overheadEntries(best(runs.direct), best(runs.empty), best(runs.routed));
    } finally {
      await routed.close();
      await empty.close();
      await app.close();
    }
  },
};

type Load = WrkResult & { cpuUsPerRequest: number };

function overheadEntries(direct: Load, empty: Load, routed: Load): BenchEntry[] {
  const note = "baseline: sidecar with an empty filter configuration";
  const addedP50 = routed.p50Ms - empty.p50Ms;
  return [
    entry("sidecar-overhead.app-direct.p50", direct.p50Ms, "ms", { note: "the floor: no proxy" }),
    entry("sidecar-overhead.app-direct.cpu-per-request", direct.cpuUsPerRequest, "µs CPU"),
    entry("sidecar-overhead.p50", routed.p50Ms, "ms", { baseline: empty.p50Ms, note }),
    entry("sidecar-overhead.p99", routed.p99Ms, "ms", { baseline: empty.p99Ms, note }),
    entry("sidecar-overhead.cpu-per-request", routed.cpuUsPerRequest, "µs CPU", {
      baseline: empty.cpuUsPerRequest,
      note,
    }),
    entry("sidecar-overhead.filter-added-p50", addedP50, "ms", {
      goal: `<= ${GOAL_ADDED_P50_MS} ms`,
      met: addedP50 <= GOAL_ADDED_P50_MS,
      note: "sidecar with route minus sidecar with empty config (sandbox, not Envoy)",
    }),
    entry("sidecar-overhead.filter-added-cpu", routed.cpuUsPerRequest - empty.cpuUsPerRequest, "µs CPU", {
      note: "sidecar with route minus sidecar with empty config",
    }),
    entry("sidecar-overhead.requests", routed.requests, "requests", { baseline: empty.requests }),
  ];
}
