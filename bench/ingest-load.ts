/**
 * Child process of the ingest benchmark: N simulated reporting proxies, each one Connect stream
 * sending a cumulative Report once per second (sends spread evenly over the second), over several
 * HTTP/2 connections, loopback only.
 *
 * A Report is 2 canaries × 2 variants with a ~40-bucket latency sketch each. To keep the load
 * process cheap, the bytes are a per-proxy reporter prefix plus a per-generation body encoded once:
 * protobuf fields concatenate, so prefix + body is exactly the Report with both parts.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ReportSchema } from "../controller/gen/meshcanary/v1/telemetry_pb.js";
import { CONNECT_PATH } from "../controller/telemetry/server.js";

/** Parent → child (first message starts the load). */
export type LoadCommand =
  | { cmd: "start"; port: number; proxies: number; firstId: number; connections: number; nonce: string }
  | { cmd: "stop" };

/** Child → parent. */
export type LoadReply =
  | { type: "open"; streams: number }
  | { type: "stats"; sent: number; errors: number }
  | { type: "error"; message: string };

/** Namespace of the simulated proxies and their canaries (bounds enforce a match). */
export const LOAD_NAMESPACE = "shop";
const CANARIES = [`${LOAD_NAMESPACE}/checkout`, `${LOAD_NAMESPACE}/cart`];
const SKETCH_BUCKETS = 40;
/** Requests per second each simulated proxy serves per (canary, variant). */
const RPS_PER_VARIANT = 40;

/** The reporter part of proxy `id`'s Reports. */
export function reporterPrefix(id: number, nonce: string): Uint8Array {
  return toBinary(
    ReportSchema,
    create(ReportSchema, {
      reporter: {
        pod: `checkout-7d9f8c-${id}`,
        namespace: LOAD_NAMESPACE,
        workload: "checkout",
        instanceId: `${nonce}-${id}`,
        startTimeUnixMs: 1_700_000_000_000n,
        filterVersion: "0.1.0",
      },
    }),
  );
}

/** The body of every proxy's `g`-th Report (g ≥ 1): sequence and cumulative totals after g seconds. */
export function reportBody(g: number): Uint8Array {
  const G = BigInt(g);
  const totals = CANARIES.flatMap((canary) =>
    ["stable", "canary"].map((variant, v) => {
      const requests = G * BigInt(RPS_PER_VARIANT);
      const failures = G / 10n;
      const indexes = Array.from({ length: SKETCH_BUCKETS }, (_, b) => 400 + 3 * b + v);
      const per = requests / BigInt(SKETCH_BUCKETS);
      return {
        canary,
        variant,
        requests: per * BigInt(SKETCH_BUCKETS),
        status2xx: per * BigInt(SKETCH_BUCKETS) - failures,
        status5xx: failures,
        failures,
        responseBytes: requests * 2048n,
        latencyUs: {
          count: per * BigInt(SKETCH_BUCKETS),
          sum: Number(per) * SKETCH_BUCKETS * 12_000,
          indexes,
          counts: indexes.map(() => per),
        },
      };
    }),
  );
  return toBinary(
    ReportSchema,
    create(ReportSchema, { seq: G, sentUnixMs: BigInt(Date.now()), routingVersion: 1n, totals }),
  );
}

function concat(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function run(start: Extract<LoadCommand, { cmd: "start" }>, reply: (r: LoadReply) => void): () => void {
  const clients = Array.from(
    { length: start.connections },
    // A distinct channel option value per client forces a separate HTTP/2 connection each.
    (_, c) =>
      new grpc.Client(`127.0.0.1:${start.port}`, grpc.credentials.createInsecure(), {
        "grpc.use_local_subchannel_pool": 1,
        "meshcanary.bench.connection": c,
      }),
  );
  const prefixes = Array.from({ length: start.proxies }, (_, i) =>
    reporterPrefix(start.firstId + i, start.nonce),
  );
  const calls = prefixes.map((_, i) =>
    clients[i % clients.length].makeBidiStreamRequest(
      CONNECT_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
    ),
  );
  let errors = 0;
  for (const call of calls) {
    call.on("error", () => errors++);
    call.on("data", () => {});
  }
  reply({ type: "open", streams: calls.length });
  const bodies = new Map<number, Uint8Array>();
  const body = (g: number) => {
    let b = bodies.get(g);
    if (!b) {
      b = reportBody(g);
      bodies.set(g, b);
      bodies.delete(g - 2);
    }
    return b;
  };
  const t0 = performance.now();
  let sent = 0;
  const tick = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * calls.length);
    for (; sent < due; sent++) {
      const i = sent % calls.length;
      calls[i].write(concat(prefixes[i], body(Math.floor(sent / calls.length) + 1)));
    }
  }, 10);
  const stats = setInterval(() => reply({ type: "stats", sent, errors }), 1000);
  return () => {
    clearInterval(tick);
    clearInterval(stats);
    for (const call of calls) call.end();
    for (const c of clients) c.close();
  };
}

function main(): void {
  let stop: (() => void) | undefined;
  const reply = (r: LoadReply) => process.send?.(r);
  process.on("message", (m: LoadCommand) => {
    if (m.cmd === "start" && !stop) {
      try {
        stop = run(m, reply);
      } catch (e) {
        reply({ type: "error", message: e instanceof Error ? e.message : String(e) });
      }
    } else if (m.cmd === "stop") {
      stop?.();
      setTimeout(() => process.exit(0), 200).unref();
    }
  });
  process.on("disconnect", () => process.exit(0));
}

main();
