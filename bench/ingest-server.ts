/**
 * Child process of the ingest benchmark: runs one telemetry server — meshcanary's
 * (`startTelemetryServer`) or a raw grpc-js sink on the same method (bytes in, nothing done: the
 * transport floor) — and answers the parent over IPC with its own CPU, memory and handling times.
 *
 * Handling time per message = decode (the service's requestDeserialize) + the stream's "data"
 * handler. Both are reached by wrapping grpc.Server#addService in this process only, so the
 * telemetry code needs no benchmark hook.
 */
import { constants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import * as grpc from "@grpc/grpc-js";
import { startTelemetryServer } from "../controller/telemetry/index.js";
import { CONNECT_PATH } from "../controller/telemetry/server.js";

/** Parent → child. */
export type ServerCommand = { cmd: "mark" } | { cmd: "sample" } | { cmd: "stop" };

/** Child → parent. */
export type ServerReply =
  | { type: "ready"; port: number }
  | { type: "sample"; sample: ServerSample }
  | { type: "error"; message: string };

/** What the server process measured since the last mark. */
export interface ServerSample {
  wallMs: number;
  cpuUs: number;
  messages: number;
  handleP50Us: number;
  handleP99Us: number;
  eventLoopP99Ms: number;
  rssBytes: number;
  /** Highest RSS seen since the mark (polled every RSS_POLL_MS): the steady state, not one instant. */
  rssMaxBytes: number;
  heapUsedBytes: number;
  /** Wall time spent in GC pauses since the mark (scavenges and full GCs), and how many were full. */
  gcMs: number;
  majorGcs: number;
  /** After a full GC (needs --expose-gc; else equal to the figures above): what is really retained. */
  rssAfterGcBytes: number;
  heapAfterGcBytes: number;
  streams: number;
}

const RSS_POLL_MS = 250;
const durationsNs: number[] = [];
const decodeNs = new WeakMap<object, number>();
let streams = 0;

function timed<T>(fn: () => T): { value: T; ns: number } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { value, ns: Number(process.hrtime.bigint() - t0) };
}

type Handler = (call: grpc.ServerDuplexStream<unknown, unknown>) => void;

/** Times every message: its decode, plus the data listener it is delivered to. */
function instrument(): void {
  const original = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, impl) {
    const def = service.connect;
    const deserialize = (buf: Buffer) => {
      const { value, ns } = timed(() => def.requestDeserialize(buf));
      if (typeof value === "object" && value !== null) decodeNs.set(value, ns);
      return value;
    };
    const handler = impl.connect as Handler;
    const connect: Handler = (call) => {
      streams++;
      call.on("close", () => streams--);
      const on = call.on.bind(call);
      call.on = ((event: string, listener: (...args: unknown[]) => void) => {
        if (event !== "data") return on(event, listener);
        return on("data", (msg: object) => {
          const { ns } = timed(() => listener(msg));
          durationsNs.push(ns + (decodeNs.get(msg) ?? 0));
        });
      }) as typeof call.on;
      handler(call);
    };
    return original.call(this, { connect: { ...def, requestDeserialize: deserialize } }, { connect });
  };
}

async function startSink(): Promise<number> {
  const server = new grpc.Server({ "grpc.max_receive_message_length": 8 * 1024 * 1024 });
  const definition: grpc.ServiceDefinition = {
    connect: {
      path: CONNECT_PATH,
      requestStream: true,
      responseStream: true,
      requestSerialize: (b: Buffer) => b,
      // A fresh object per message so decode time can be attached to it like a decoded Report.
      requestDeserialize: (b: Buffer) => ({ size: b.length }),
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  };
  server.addService(definition, {
    connect: (call: grpc.ServerDuplexStream<unknown, Buffer>) => {
      call.on("data", () => {});
      call.on("end", () => call.end());
      call.on("error", () => {});
    },
  });
  return new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
}

function percentileUs(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000;
}

async function main(): Promise<void> {
  const kind = process.argv[2];
  instrument();
  const port =
    kind === "sink"
      ? await startSink()
      : (await startTelemetryServer({ isKnownCanary: () => true, historyMs: 5 * 60_000 })).port;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let markCpu = process.cpuUsage();
  let markWall = performance.now();
  let rssMax = 0;
  let gcMs = 0;
  let majorGcs = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++;
    }
  }).observe({ entryTypes: ["gc"] });
  setInterval(() => {
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
  }, RSS_POLL_MS).unref();
  const send = (m: ServerReply) => process.send?.(m);
  process.on("message", (m: ServerCommand) => {
    if (m.cmd === "mark") {
      durationsNs.length = 0;
      loop.reset();
      markCpu = process.cpuUsage();
      markWall = performance.now();
      rssMax = 0;
      gcMs = 0;
      majorGcs = 0;
    } else if (m.cmd === "sample") {
      const cpu = process.cpuUsage(markCpu);
      const sorted = Float64Array.from(durationsNs).sort();
      const mem = process.memoryUsage();
      globalThis.gc?.();
      const retained = process.memoryUsage();
      send({
        type: "sample",
        sample: {
          wallMs: performance.now() - markWall,
          cpuUs: cpu.user + cpu.system,
          messages: durationsNs.length,
          handleP50Us: percentileUs(Array.from(sorted), 0.5),
          handleP99Us: percentileUs(Array.from(sorted), 0.99),
          eventLoopP99Ms: loop.percentile(99) / 1e6,
          rssBytes: mem.rss,
          rssMaxBytes: Math.max(rssMax, mem.rss),
          heapUsedBytes: mem.heapUsed,
          gcMs,
          majorGcs,
          rssAfterGcBytes: retained.rss,
          heapAfterGcBytes: retained.heapUsed,
          streams,
        },
      });
    } else if (m.cmd === "stop") {
      process.exit(0);
    }
  });
  send({ type: "ready", port });
}

main().catch((e) => {
  process.send?.({ type: "error", message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
