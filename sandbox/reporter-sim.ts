/**
 * A simulated filter reporter: one proxy's Telemetry.Connect stream (real @grpc/grpc-js, real
 * encoded Reports with cumulative totals) that splits a chosen request rate between `stable` and
 * `canary` by the weights of the last Directive it received, at chosen failure rates, and echoes the
 * Directive version as its routing_version like the real filter. Used by controller tests and
 * benchmarks until (and beside) the real filter.
 */
import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  type Directive,
  DirectiveSchema,
  type Report,
  ReportSchema,
} from "../controller/gen/meshcanary/v1/telemetry_pb.js";
import { bucketIndex } from "../controller/telemetry/sketch.js";

export interface ReporterSimOptions {
  /** Controller telemetry address, e.g. "127.0.0.1:9090". */
  address: string;
  token?: string;
  /** Canary id "<namespace>/<name>" whose route this proxy serves. */
  canary: string;
  /** Requests per second through this proxy. */
  rps: number;
  /** Failure share per variant, 0..1. */
  failureRate: { stable: number; canary: number };
  /** Latency of every request, microseconds; default 10 ms. */
  latencyUs?: number;
  /** Report interval; default 200 ms. */
  intervalMs?: number;
  pod?: string;
  /** The reporter's namespace; default the canary's. */
  namespace?: string;
  /** Further stream metadata, e.g. the x-forwarded-client-cert a controller's sidecar would set. */
  metadata?: Record<string, string>;
  /** Instance id; default a random one (a forger may claim another proxy's). */
  instanceId?: string;
  /**
   * Reconnect this long after the stream ends, like the real filter (same instance, cumulative totals
   * kept, counting on meanwhile); default: stay ended.
   */
  reconnectMs?: number;
  /** Further controller addresses tried in turn on reconnect (replicas behind one Service). */
  moreAddresses?: string[];
  /** Added to sent_unix_ms, to simulate a proxy whose clock is wrong. */
  clockSkewMs?: number;
}

export interface ReporterSim {
  /** Directives received, oldest first. */
  directives: Directive[];
  /** Canary weight (basis points) of the last Directive for this canary; 0 before any. */
  canaryWeightBp(): number;
  setFailureRate(rate: { stable: number; canary: number }): void;
  /** Status of the last stream end (e.g. UNAVAILABLE from a non-leader), if it ended. */
  ended(): grpc.StatusObject | undefined;
  /** Streams opened so far (1 + reconnects). */
  connections(): number;
  /** Cumulative totals sent so far per variant. */
  sent(): Record<"stable" | "canary", { requests: number; failures: number }>;
  close(): void;
}

interface Totals {
  requests: number;
  failures: number;
  /** Fractional requests/failures carried to the next report so totals track the rates exactly. */
  carryRequests: number;
  carryFailures: number;
}

export function startReporterSim(opts: ReporterSimOptions): ReporterSim {
  const addresses = [opts.address, ...(opts.moreAddresses ?? [])];
  const metadata = new grpc.Metadata();
  if (opts.token !== undefined) metadata.set("x-meshcanary-token", opts.token);
  for (const [k, v] of Object.entries(opts.metadata ?? {})) metadata.set(k, v);
  const directives: Directive[] = [];
  let status: grpc.StatusObject | undefined;
  let closed = false;
  let opened = 0;
  let client!: grpc.Client;
  let stream!: grpc.ClientDuplexStream<Report, Directive>;
  const open = () => {
    client = new grpc.Client(addresses[opened % addresses.length]!, grpc.credentials.createInsecure());
    opened++;
    status = undefined;
    const s = client.makeBidiStreamRequest(
      "/meshcanary.v1.Telemetry/Connect",
      (r: Report) => Buffer.from(toBinary(ReportSchema, r)),
      (b: Buffer) => fromBinary(DirectiveSchema, b),
      metadata,
    );
    s.on("data", (d: Directive) => directives.push(d));
    s.on("error", () => undefined);
    s.on("status", (st: grpc.StatusObject) => {
      status = st;
      if (opts.reconnectMs === undefined || closed) return;
      client.close();
      setTimeout(() => {
        if (!closed) open();
      }, opts.reconnectMs);
    });
    stream = s;
  };
  open();
  let rates = { ...opts.failureRate };
  const totals: Record<"stable" | "canary", Totals> = {
    stable: { requests: 0, failures: 0, carryRequests: 0, carryFailures: 0 },
    canary: { requests: 0, failures: 0, carryRequests: 0, carryFailures: 0 },
  };

  const instanceId = opts.instanceId ?? randomUUID();
  const startMs = Date.now();
  const intervalMs = opts.intervalMs ?? 200;
  const latencyUs = opts.latencyUs ?? 10_000;
  let seq = 0n;
  let last = Date.now();

  const canaryWeightBp = (): number => {
    const d = directives.at(-1);
    const route = d?.routes.find((r) => r.canary === opts.canary);
    return route?.variants.find((v) => v.name === "canary")?.weightBp ?? 0;
  };

  const step = () => {
    const now = Date.now();
    const n = (opts.rps * (now - last)) / 1000;
    last = now;
    const share = canaryWeightBp() / 10000;
    add(totals.canary, n * share, rates.canary);
    add(totals.stable, n * (1 - share), rates.stable);
    seq += 1n;
    const version = directives.at(-1)?.version ?? 0n;
    stream.write(
      create(ReportSchema, {
        reporter: {
          pod: opts.pod ?? `sim-${instanceId.slice(0, 8)}`,
          namespace: opts.namespace ?? opts.canary.split("/")[0] ?? "default",
          workload: "reporter-sim",
          instanceId,
          startTimeUnixMs: BigInt(startMs),
          filterVersion: "sim",
        },
        seq,
        sentUnixMs: BigInt(now + (opts.clockSkewMs ?? 0)),
        routingVersion: version,
        totals: (["stable", "canary"] as const).map((variant) =>
          variantTotals(opts.canary, variant, totals[variant], latencyUs),
        ),
      }),
    );
  };
  const timer = setInterval(() => {
    if (status === undefined) step();
  }, intervalMs);

  return {
    directives,
    canaryWeightBp,
    setFailureRate: (r) => {
      rates = { ...r };
    },
    ended: () => status,
    connections: () => opened,
    sent: () => ({
      stable: { requests: totals.stable.requests, failures: totals.stable.failures },
      canary: { requests: totals.canary.requests, failures: totals.canary.failures },
    }),
    close: () => {
      closed = true;
      clearInterval(timer);
      stream.end();
      stream.cancel();
      client.close();
    },
  };
}

function add(t: Totals, requests: number, failureRate: number): void {
  t.carryRequests += requests;
  const whole = Math.floor(t.carryRequests);
  t.carryRequests -= whole;
  t.requests += whole;
  t.carryFailures += whole * failureRate;
  const failed = Math.floor(t.carryFailures);
  t.carryFailures -= failed;
  t.failures += failed;
}

function variantTotals(canary: string, variant: string, t: Totals, latencyUs: number) {
  const ok = t.requests - t.failures;
  return {
    canary,
    variant,
    requests: BigInt(t.requests),
    status2xx: BigInt(ok),
    status5xx: BigInt(t.failures),
    failures: BigInt(t.failures),
    latencyUs:
      t.requests > 0
        ? {
            count: BigInt(t.requests),
            sum: t.requests * latencyUs,
            indexes: [bucketIndex(latencyUs)],
            counts: [BigInt(t.requests)],
          }
        : { count: 0n },
    responseBytes: BigInt(t.requests * 100),
  };
}
