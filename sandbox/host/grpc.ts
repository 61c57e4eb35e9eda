// gRPC callouts (host contract §9.2) carried by @grpc/grpc-js with raw bytes. Tokens per VM:
// unary calls 5, 9, 13…; streams 6, 10, 14…. Events are delivered through `deliver`, which the
// VM runs asynchronously (never re-entrantly).
import * as grpc from "@grpc/grpc-js";
import { WasmResult } from "./abi.js";
import type { Headers } from "./pairs.js";

/** A callback the VM must run on the owning root context. */
export type GrpcEvent =
  | { kind: "initial_metadata"; token: number; metadata: Headers }
  | { kind: "message"; token: number; message: Uint8Array }
  | { kind: "trailing_metadata"; token: number; metadata: Headers }
  | { kind: "close"; token: number; status: number; message: string };

interface Stream {
  rootId: number;
  call: grpc.ClientDuplexStream<Buffer, Buffer>;
  localClosed: boolean;
}

const identity = (b: Buffer): Buffer => b;

/**
 * Where the service argument points. `known` is false for a GrpcService proto naming a cluster the
 * proxy lacks: Envoy skips the cluster check for that form, so the stream fails later (see stream()).
 */
export type GrpcTarget = { cluster: string; fromProto: boolean; known: boolean } | { error: number };

/**
 * Envoy first parses `service` as a serialized GrpcService; if that fails it is a cluster name.
 * Supported proto form: envoy_grpc (field 1) with cluster_name (field 1).
 */
export function parseGrpcTarget(service: Uint8Array, clusters: Record<string, string>): GrpcTarget {
  const proto = parseEnvoyGrpcCluster(service);
  if (proto === undefined) {
    const name = new TextDecoder().decode(service);
    return Object.hasOwn(clusters, name)
      ? { cluster: name, fromProto: false, known: true }
      : { error: WasmResult.ParseFailure };
  }
  return proto !== null
    ? { cluster: proto, fromProto: true, known: Object.hasOwn(clusters, proto) }
    : { error: WasmResult.BadArgument };
}

/** undefined = not a valid protobuf; null = valid but no envoy_grpc.cluster_name. */
function parseEnvoyGrpcCluster(buf: Uint8Array): string | null | undefined {
  const fields = parseFields(buf);
  if (!fields) return undefined;
  const envoyGrpc = fields.find((f) => f.field === 1 && f.bytes);
  const inner = envoyGrpc?.bytes ? parseFields(envoyGrpc.bytes) : undefined;
  const name = inner?.find((f) => f.field === 1 && f.bytes)?.bytes;
  return name ? new TextDecoder().decode(name) : null;
}

function parseFields(buf: Uint8Array): Array<{ field: number; bytes?: Uint8Array }> | undefined {
  const out: Array<{ field: number; bytes?: Uint8Array }> = [];
  let at = 0;
  const varint = (): number | undefined => {
    let v = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (at >= buf.length) return undefined;
      const b = buf[at++]!;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
    }
    return undefined;
  };
  while (at < buf.length) {
    const key = varint();
    if (key === undefined || key >>> 3 === 0) return undefined;
    const wire = key & 7;
    if (wire === 0) {
      if (varint() === undefined) return undefined;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > buf.length) return undefined;
    } else if (wire === 2) {
      const len = varint();
      if (len === undefined || at + len > buf.length) return undefined;
      out.push({ field: Math.floor(key / 8), bytes: buf.subarray(at, at + len) });
      at += len;
    } else {
      return undefined;
    }
  }
  return out;
}

/** Converts grpc-js metadata to lower-case pairs (binary values base64, as in Envoy's map). */
export function metadataPairs(md: grpc.Metadata): Headers {
  const out: Headers = [];
  for (const [k, values] of Object.entries(md.toJSON())) {
    for (const v of values) out.push([k, typeof v === "string" ? v : Buffer.from(v).toString("base64")]);
  }
  return out;
}

function toMetadata(pairs: Headers): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of pairs) {
    if (k.startsWith(":")) continue;
    try {
      if (k.endsWith("-bin")) md.add(k, Buffer.from(v, "base64"));
      else md.add(k, v);
    } catch {
      // grpc-js refuses reserved keys; Envoy would drop them too.
    }
  }
  return md;
}

/** One VM's outstanding gRPC calls and streams. */
export class GrpcCallouts {
  private nextCall = 5;
  private nextStream = 6;
  private readonly calls = new Map<number, { rootId: number; call: grpc.ClientUnaryCall }>();
  private readonly streams = new Map<number, Stream>();

  constructor(
    private readonly clusters: Record<string, string>,
    private readonly clients: Map<string, grpc.Client>,
    private readonly deliver: (rootId: number, event: GrpcEvent) => void,
  ) {}

  private client(cluster: string): grpc.Client {
    const address = this.clusters[cluster]!;
    let c = this.clients.get(address);
    if (!c) {
      const endpoints = address.split(",");
      // Envoy connects afresh for each new stream to a down cluster; grpc-js would instead fail
      // calls fast for up to 2 minutes of its own channel backoff, hiding the filter's backoff.
      c = new grpc.Client(
        endpoints.length > 1 ? `ipv4:${endpoints.join(",")}` : address,
        grpc.credentials.createInsecure(),
        {
          "grpc.initial_reconnect_backoff_ms": 100,
          "grpc.max_reconnect_backoff_ms": 100,
          // Several endpoints (the pods behind a Service): each stream goes to the next, as Envoy's
          // load balancer picks a host per stream.
          ...(endpoints.length > 1
            ? { "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) }
            : {}),
        },
      );
      this.clients.set(address, c);
    }
    return c;
  }

  /** proxy_grpc_call; returns [result, token]. */
  call(
    rootId: number,
    cluster: string,
    path: string,
    initial: Headers,
    message: Uint8Array,
    timeoutMs: number,
  ): [number, number] {
    const token = this.nextCall;
    this.nextCall += 4;
    const options: grpc.CallOptions = timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
    const call = this.client(cluster).makeUnaryRequest(
      path,
      identity,
      identity,
      Buffer.from(message),
      toMetadata(initial),
      options,
      (err, value) => {
        if (!this.calls.delete(token)) return;
        if (err)
          this.deliver(rootId, { kind: "close", token, status: err.code ?? 2, message: err.details ?? "" });
        else this.deliver(rootId, { kind: "message", token, message: value ?? new Uint8Array(0) });
      },
    );
    this.calls.set(token, { rootId, call });
    return [WasmResult.Ok, token];
  }

  /** proxy_grpc_stream; returns [result, token]. */
  stream(rootId: number, cluster: string, path: string, initial: Headers): [number, number] {
    const token = this.nextStream;
    this.nextStream += 4;
    const call = this.client(cluster).makeBidiStreamRequest(
      path,
      identity,
      identity,
      toMetadata(initial),
      {},
    );
    const entry: Stream = { rootId, call, localClosed: false };
    this.streams.set(token, entry);
    const live = (): boolean => this.streams.get(token) === entry;
    call.on("metadata", (md: grpc.Metadata) => {
      if (live()) this.deliver(rootId, { kind: "initial_metadata", token, metadata: metadataPairs(md) });
    });
    call.on("data", (msg: Buffer) => {
      if (live()) this.deliver(rootId, { kind: "message", token, message: new Uint8Array(msg) });
    });
    call.on("error", () => {
      // The status event follows and carries the outcome.
    });
    call.on("status", (st: grpc.StatusObject) => {
      if (!live()) return;
      this.streams.delete(token);
      this.deliver(rootId, { kind: "trailing_metadata", token, metadata: metadataPairs(st.metadata) });
      this.deliver(rootId, { kind: "close", token, status: st.code, message: st.details });
    });
    return [WasmResult.Ok, token];
  }

  /**
   * proxy_grpc_stream to a GrpcService naming a missing cluster, as Envoy answers it
   * (test/envoy/host-limits.test.ts): InternalFailure, no token for the guest, and then an
   * on_grpc_close with status 14 (Unavailable) for the token the stream would have had.
   */
  refusedStream(rootId: number): [number, number] {
    const token = this.nextStream;
    this.nextStream += 4;
    this.deliver(rootId, { kind: "close", token, status: 14, message: "" });
    return [WasmResult.InternalFailure, token];
  }

  /** proxy_grpc_send. */
  send(token: number, message: Uint8Array, endStream: boolean): number {
    if ((token & 3) !== 2) return WasmResult.BadArgument;
    const s = this.streams.get(token);
    if (!s) return WasmResult.NotFound;
    if (s.localClosed) return WasmResult.BadArgument;
    s.call.write(Buffer.from(message));
    if (endStream) this.halfClose(s);
    return WasmResult.Ok;
  }

  private halfClose(s: Stream): void {
    s.localClosed = true;
    s.call.end();
  }

  /** proxy_grpc_close: cancel a unary call; half-close a stream. */
  close(token: number): number {
    if ((token & 3) === 1) return this.cancelCall(token);
    if ((token & 3) !== 2) return WasmResult.BadArgument;
    const s = this.streams.get(token);
    if (!s) return WasmResult.NotFound;
    if (!s.localClosed) this.halfClose(s);
    return WasmResult.Ok;
  }

  /** proxy_grpc_cancel: cancel a call or reset a stream; no callbacks follow. */
  cancel(token: number): number {
    if ((token & 3) === 1) return this.cancelCall(token);
    if ((token & 3) !== 2) return WasmResult.BadArgument;
    const s = this.streams.get(token);
    if (!s) return WasmResult.NotFound;
    this.streams.delete(token);
    s.call.cancel();
    return WasmResult.Ok;
  }

  private cancelCall(token: number): number {
    const c = this.calls.get(token);
    if (!c) return WasmResult.NotFound;
    this.calls.delete(token);
    c.call.cancel();
    return WasmResult.Ok;
  }

  /** Cancels everything owned by a root context (it is going away). */
  cancelRoot(rootId: number): void {
    for (const [t, c] of [...this.calls]) if (c.rootId === rootId) this.cancelCall(t);
    for (const [t, s] of [...this.streams]) if (s.rootId === rootId) this.cancel(t);
  }

  cancelAll(): void {
    for (const t of [...this.calls.keys()]) this.cancelCall(t);
    for (const t of [...this.streams.keys()]) this.cancel(t);
  }
}
