/**
 * The gRPC shell of telemetry: serves `/meshcanary.v1.Telemetry/Connect` (bidi: Report in, Directive out)
 * with @grpc/grpc-js, checks the shared token and the stream's identity, hands each decoded Report
 * (with that identity) to `onReport` and ends a stream with the status that callback returns, or
 * drains every open stream on request (a replica that stopped leading). No telemetry logic lives here.
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  type Directive,
  DirectiveSchema,
  type Report,
  ReportSchema,
} from "../gen/meshcanary/v1/telemetry_pb.js";
import { tokenMatches } from "../security/token-match.js";
import type { DirectiveBroadcaster } from "./directives.js";
import type { StreamIdentity } from "./identity.js";

/** Exact method path the filters call. */
export const CONNECT_PATH = "/meshcanary.v1.Telemetry/Connect";
/** Stream metadata key carrying the shared token. */
export const TOKEN_METADATA = "x-meshcanary-token";

/** A received message: decoded, or the decode error (never a throw inside grpc-js). */
export type Incoming =
  | { ok: true; size: number; report: Report }
  | { ok: false; size: number; error: string };

/** How to end a stream: a gRPC status, a message, and optional trailing metadata pairs. */
export interface StreamEnd {
  code: grpc.status;
  details: string;
  trailers?: Record<string, string>;
}

export interface GrpcServerOptions {
  /** host:port to bind, e.g. "127.0.0.1:0" or "0.0.0.0:9090". */
  address: string;
  /** Hard receive limit enforced by grpc-js (RESOURCE_EXHAUSTED above it). */
  maxReceiveBytes: number;
  /** Shared token required in `x-meshcanary-token`; undefined = no check. */
  token?: string;
  /** Called per message with the stream's identity; returns a StreamEnd to end that stream, or null. */
  onReport(msg: Incoming, peer: string, identity: StreamIdentity): StreamEnd | null;
  /** The stream's identity from its metadata (first value per key), or why it has none (UNAUTHENTICATED); default none. */
  authenticate?(metadata: (key: string) => string | undefined): StreamIdentity | Error;
  directives: DirectiveBroadcaster;
  /** Called per new stream; a StreamEnd refuses it (e.g. UNAVAILABLE on a non-leader). */
  admit?(): StreamEnd | null;
  /** Told of each message a drained or refused (not serving) stream ended on; it is not handed to onReport. */
  onDrained?(msg: Incoming, identity: StreamIdentity): void;
  /** Told of each refused stream: "token" (missing or wrong), "identity" (with why) or "not_serving". */
  onRefused?(reason: "token" | "identity" | "not_serving", peer: string, why?: string): void;
}

export interface GrpcServer {
  port: number;
  /** Currently open Connect streams. */
  streams(): number;
  /**
   * Ends every stream open now with `end`, sending it no further Directive: each at its next
   * message, which is not handed to onReport, or once it stayed silent for twice its last gap between messages (1 s..2 min; 2 min
   * when unknown). Streams opened later are not affected. Returns how many streams it applies to.
   */
  drain(end: StreamEnd): number;
  close(): Promise<void>;
}

/** Bounds of the wait for a draining stream's next message (see `drain`). */
const DRAIN_MIN_MS = 1000;
const DRAIN_MAX_MS = 120_000;

/** An open stream as `drain` sees it. */
interface OpenStream {
  /** When its last message arrived (0: none yet) and the gap before that one (0: unknown). */
  lastMs: number;
  gapMs: number;
  /** How it ends at its next message, once drained. */
  draining?: StreamEnd;
  timer?: NodeJS.Timeout;
  /** Stops the Directives to it. */
  unsubscribe(): void;
  end(e: StreamEnd): void;
}

/** How long a drained stream may stay silent before it is ended anyway. */
function drainWaitMs(s: OpenStream): number {
  return s.gapMs > 0 ? Math.min(DRAIN_MAX_MS, Math.max(DRAIN_MIN_MS, 2 * s.gapMs)) : DRAIN_MAX_MS;
}

function deserializeReport(buf: Buffer): Incoming {
  try {
    return { ok: true, size: buf.length, report: fromBinary(ReportSchema, buf) };
  } catch (e) {
    return { ok: false, size: buf.length, error: e instanceof Error ? e.message : String(e) };
  }
}

const serviceDefinition: grpc.ServiceDefinition = {
  connect: {
    path: CONNECT_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: (r: Report) => Buffer.from(toBinary(ReportSchema, r)),
    requestDeserialize: deserializeReport,
    responseSerialize: (d: Directive) => Buffer.from(toBinary(DirectiveSchema, d)),
    responseDeserialize: (b: Buffer) => fromBinary(DirectiveSchema, b),
  },
};

function endStream(call: grpc.ServerDuplexStream<Incoming, Directive>, end: StreamEnd): void {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(end.trailers ?? {})) metadata.set(k, v);
  call.emit("error", { code: end.code, details: end.details, metadata });
}

/**
 * From now on the stream ends at its next message (handed to onDrained, not onReport) or after
 * `waitMs` of silence, and gets no further Directive.
 */
function startDraining(s: OpenStream, end: StreamEnd, waitMs: number): void {
  s.draining = end;
  // A pass still running on a replica that stopped leading may publish a stale table.
  s.unsubscribe();
  s.timer = setTimeout(() => s.end(end), waitMs);
  s.timer.unref();
}

/** Binds and starts the Connect service. */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServer> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": opts.maxReceiveBytes,
    "grpc.keepalive_permit_without_calls": 1,
  });
  const open = new Set<OpenStream>();
  const connect = (call: grpc.ServerDuplexStream<Incoming, Directive>) => {
    const sent = call.metadata.get(TOKEN_METADATA)[0];
    if (opts.token !== undefined && !tokenMatches(String(sent ?? ""), opts.token)) {
      opts.onRefused?.("token", call.getPeer());
      endStream(call, {
        code: grpc.status.UNAUTHENTICATED,
        details: `${TOKEN_METADATA}: missing or wrong token`,
      });
      return;
    }
    const identity = opts.authenticate?.((key) => {
      const v = call.metadata.get(key)[0];
      return v === undefined ? undefined : String(v);
    }) ?? { principal: "" };
    if (identity instanceof Error) {
      opts.onRefused?.("identity", call.getPeer(), identity.message);
      endStream(call, { code: grpc.status.UNAUTHENTICATED, details: identity.message });
      return;
    }
    const refused = opts.admit?.();
    if (refused) opts.onRefused?.("not_serving", call.getPeer());
    serve(call, identity, refused ?? undefined);
  };
  /**
   * An admitted stream gets Directives and its reports go to onReport until it is drained. A
   * refused one is drained from its start, uncounted: it ends at its first message (a filter sends
   * a report as soon as its stream opens; should it take that report as delivered, the controller
   * recognises it when the filter comes back) or after DRAIN_MIN_MS, and ends with its status even
   * when the filter half-closes first.
   */
  const serve = (
    call: grpc.ServerDuplexStream<Incoming, Directive>,
    identity: StreamIdentity,
    refused: StreamEnd | undefined,
  ) => {
    let closed = false;
    const unsubscribe = refused
      ? () => {}
      : opts.directives.subscribe((d) => {
          if (!closed) call.write(d);
        });
    const close = () => {
      if (closed) return;
      closed = true;
      open.delete(stream);
      clearTimeout(stream.timer);
      unsubscribe();
    };
    const stream: OpenStream = {
      lastMs: 0,
      gapMs: 0,
      unsubscribe,
      end: (e) => {
        close();
        endStream(call, e);
      },
    };
    if (refused) startDraining(stream, refused, DRAIN_MIN_MS);
    else open.add(stream);
    const peer = call.getPeer();
    call.on("data", (msg: Incoming) => {
      if (closed) return;
      const at = Date.now();
      if (stream.lastMs > 0) stream.gapMs = at - stream.lastMs;
      stream.lastMs = at;
      if (stream.draining) {
        opts.onDrained?.(msg, identity);
        return stream.end(stream.draining);
      }
      const end = opts.onReport(msg, peer, identity);
      if (end) stream.end(end);
    });
    call.on("end", () => {
      if (closed) return;
      if (refused) return stream.end(refused);
      close();
      call.end();
    });
    call.on("cancelled", close);
    call.on("error", close);
    call.on("close", close);
  };
  server.addService(serviceDefinition, { connect });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(opts.address, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  return {
    port,
    streams: () => open.size,
    drain: (end) => {
      for (const s of open) if (!s.draining) startDraining(s, end, drainWaitMs(s));
      return open.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Streams stay open indefinitely, so a graceful shutdown only gets a moment before forcing.
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
