/**
 * Controller ingest at scale (DESIGN §7 "controller ingest"): the telemetry server in its own
 * process, N simulated proxies each streaming a cumulative Report per second from separate load
 * processes over loopback. The server process measures its own CPU, memory and per-message
 * handling time; the baseline is a raw grpc-js sink on the same method under the same load.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LoadCommand, LoadReply } from "./ingest-load.js";
import type { ServerCommand, ServerReply, ServerSample } from "./ingest-server.js";
import { type Bench, type BenchContext, type BenchEntry, entry } from "./results.js";

const MIB = 1024 * 1024;
/** Simulated proxies per load process and per HTTP/2 connection. */
const PROXIES_PER_PROCESS = 5000;
const PROXIES_PER_CONNECTION = 1000;

/**
 * The controller's V8 heap flags exactly as deployed (NODE_OPTIONS in istio/controller/deployment.yaml;
 * a test keeps the two equal): the server process runs with them, so its memory and the GC's share of
 * its CPU are those of the deployment, not of Node's defaults (which let old space grow to GiBs).
 */
export const CONTROLLER_NODE_FLAGS = ["--max-old-space-size=320", "--max-semi-space-size=16"];

/** Forks a sibling module: the compiled .js under node, the .ts source under tsx (tests). */
function forkSibling(name: string, args: string[], nodeFlags: string[] = []): ChildProcess {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const path = fileURLToPath(new URL(`./${name}${ext}`, import.meta.url));
  return fork(path, args, {
    execArgv: [...(ext === ".ts" ? ["--import", "tsx"] : []), ...nodeFlags],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
}

/** The next IPC message matching `want`, or an error on child exit, error reply or timeout. */
function next<T extends { type: string }>(
  child: ChildProcess,
  want: T["type"],
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    const onMessage = (m: T | { type: "error"; message: string }) => {
      if (m.type === "error") {
        done();
        reject(new Error(`child: ${(m as { message: string }).message}`));
      } else if (m.type === want) {
        done();
        resolve(m as T);
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`child exited (${code}) while waiting for ${want}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${want}`));
    }, timeoutMs);
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stopChild(child: ChildProcess, command: ServerCommand | LoadCommand): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.send(command);
  });
}

/** How long the server's idle CPU (timers, GC, the delay monitor) is measured before the load. */
const IDLE_MS = 2000;

/** A loaded sample plus the same process's idle CPU rate. */
export interface Measured extends ServerSample {
  idleCores: number;
}

async function sample(server: ChildProcess, ms: number): Promise<ServerSample> {
  server.send({ cmd: "mark" } satisfies ServerCommand);
  await sleep(ms);
  const sampled = next<Extract<ServerReply, { type: "sample" }>>(server, "sample", 30_000);
  server.send({ cmd: "sample" } satisfies ServerCommand);
  return (await sampled).sample;
}

/** One measurement: a fresh server of `kind` under `proxies` reporting proxies. */
export async function measure(
  kind: "meshcanary" | "sink",
  proxies: number,
  timing: { warmupMs: number; measureMs: number },
): Promise<Measured> {
  // The sink gets the same heap flags, so the baseline differs from meshcanary only in the handler.
  const server = forkSibling("ingest-server", [kind], [...CONTROLLER_NODE_FLAGS, "--expose-gc"]);
  const loads: ChildProcess[] = [];
  try {
    const { port } = await next<Extract<ServerReply, { type: "ready" }>>(server, "ready", 30_000);
    const idle = await sample(server, IDLE_MS);
    const nonce = `${kind}-${proxies}-${process.pid}`;
    for (let first = 0; first < proxies; first += PROXIES_PER_PROCESS) {
      const count = Math.min(PROXIES_PER_PROCESS, proxies - first);
      const load = forkSibling("ingest-load", []);
      loads.push(load);
      const connections = Math.ceil(count / PROXIES_PER_CONNECTION);
      load.send({
        cmd: "start",
        port,
        proxies: count,
        firstId: first,
        connections,
        nonce,
      } satisfies LoadCommand);
    }
    await Promise.all(loads.map((l) => next<Extract<LoadReply, { type: "open" }>>(l, "open", 60_000)));
    await sleep(timing.warmupMs);
    const loaded = await sample(server, timing.measureMs);
    return { ...loaded, idleCores: idle.cpuUs / (idle.wallMs * 1000) };
  } finally {
    await Promise.all(loads.map((l) => stopChild(l, { cmd: "stop" })));
    await stopChild(server, { cmd: "stop" });
  }
}

function sizes(ctx: BenchContext) {
  if (ctx.mode === "full") return { proxies: [1000, 10_000], warmupMs: 10_000, measureMs: 20_000 };
  if (ctx.mode === "quick") return { proxies: [2000], warmupMs: 4000, measureMs: 8000 };
  return { proxies: [100], warmupMs: 1000, measureMs: 2000 };
}

/** The figures of one N, meshcanary against the sink. */
export function ingestEntries(proxies: number, m: Measured, sink: Measured): BenchEntry[] {
  const at = `ingest.${proxies}proxies`;
  // Marginal CPU per report: the process's idle CPU over the same wall time is not the reports' cost.
  const perReport = (s: Measured) =>
    s.messages > 0
      ? Math.max(0, s.cpuUs - s.idleCores * s.wallMs * 1000) / s.messages
      : Number.POSITIVE_INFINITY;
  const cpuPer = perReport(m);
  const extrapolated = (s: Measured) => (perReport(s) * 10_000) / 1e6 + s.idleCores;
  const big = proxies >= 10_000;
  const note = `baseline: raw grpc-js sink, same load; ${m.streams} streams open; server runs with the deployment's NODE_OPTIONS (${CONTROLLER_NODE_FLAGS.join(" ")})`;
  return [
    entry(`${at}.reports-per-s`, m.messages / (m.wallMs / 1000), "reports/s received", {
      baseline: proxies,
      note: "baseline: the offered rate (1 report/s per proxy)",
    }),
    entry(`${at}.cpu-per-report`, cpuPer, "µs CPU (above idle)", { baseline: perReport(sink), note }),
    entry(`${at}.idle-cpu`, m.idleCores, "cores before load", { baseline: sink.idleCores, note }),
    entry(`${at}.cpu-share`, m.cpuUs / (m.wallMs * 1000), "cores (measured)", {
      baseline: sink.cpuUs / (sink.wallMs * 1000),
      goal: big ? "<= 1.0 core" : null,
      met: big ? m.cpuUs / (m.wallMs * 1000) <= 1 : null,
      note,
    }),
    entry(`${at}.cpu-share-extrapolated-10k`, extrapolated(m), "cores for 10k proxies", {
      baseline: extrapolated(sink),
      note: "contrast only: at low rates each message wakes the loop alone, so this overstates; the goal is judged at 10k",
    }),
    entry(`${at}.handle-p50`, m.handleP50Us / 1000, "ms", { baseline: sink.handleP50Us / 1000, note }),
    entry(`${at}.handle-p99`, m.handleP99Us / 1000, "ms", {
      baseline: sink.handleP99Us / 1000,
      goal: "<= 20 ms",
      met: m.handleP99Us / 1000 <= 20,
      note: "decode + ingest per message, inside the server process",
    }),
    entry(`${at}.event-loop-delay-p99`, m.eventLoopP99Ms, "ms", { baseline: sink.eventLoopP99Ms, note }),
    entry(`${at}.rss`, m.rssBytes / MIB, "MiB", {
      baseline: sink.rssBytes / MIB,
      goal: "<= 500 MiB",
      met: m.rssBytes / MIB <= 500,
      note,
    }),
    entry(`${at}.rss-max`, m.rssMaxBytes / MIB, "MiB (max over the measured window)", {
      baseline: sink.rssMaxBytes / MIB,
      goal: "<= 500 MiB",
      met: m.rssMaxBytes / MIB <= 500,
      note,
    }),
    entry(`${at}.gc-share`, m.gcMs / m.wallMs, "of wall time in GC pauses", {
      baseline: sink.gcMs / sink.wallMs,
      note: `${m.majorGcs} full GCs in the window (sink ${sink.majorGcs}); what a tight heap costs in CPU`,
    }),
    entry(`${at}.rss-after-gc`, m.rssAfterGcBytes / MIB, "MiB", {
      baseline: sink.rssAfterGcBytes / MIB,
      note,
    }),
    entry(`${at}.heap-used`, m.heapUsedBytes / MIB, "MiB", { baseline: sink.heapUsedBytes / MIB, note }),
    entry(`${at}.heap-retained`, m.heapAfterGcBytes / MIB, "MiB after full GC", {
      baseline: sink.heapAfterGcBytes / MIB,
      note,
    }),
  ];
}

export const ingest: Bench = {
  name: "ingest",
  async run(ctx) {
    const n = sizes(ctx);
    const out: BenchEntry[] = [];
    for (const proxies of n.proxies) {
      ctx.log(`ingest: ${proxies} proxies, raw grpc-js sink (baseline)`);
      const sink = await measure("sink", proxies, n);
      ctx.log(`ingest: ${proxies} proxies, meshcanary telemetry server`);
      const m = await measure("meshcanary", proxies, n);
      out.push(...ingestEntries(proxies, m, sink));
    }
    return out;
  },
};
