/**
 * The sandbox sidecar: an HTTP/1.1 and cleartext HTTP/2 (prior knowledge) outbound proxy that runs
 * the real filter in the sandbox proxy-wasm host, then routes as Istio would from the current
 * VirtualServices: header matches on the variant the filter set, weighted destinations, subsets
 * mapped to local upstream addresses. Upstream failures become Envoy-style local replies with
 * response flags, so the filter tallies them as it would in Envoy.
 */
import {
  createServer as createHttp1Server,
  type IncomingHttpHeaders,
  request as httpRequest,
} from "node:http";
import { createServer as createHttp2Server, type Http2ServerRequest } from "node:http2";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { Duplex } from "node:stream";
import type { IncomingMessage } from "node:http";
import { ResponseFlag } from "../host/abi.js";
import type { Headers, HttpStream, ProxyWasmHost } from "../host/index.js";
import {
  type RequestView,
  type RouteChoice,
  routeRequest,
  type VirtualServiceSpec,
} from "./virtual-service-router.js";

/** Where a (host, subset) lives locally: "127.0.0.1:port". */
export type EndpointMap = Map<string, string>;

export function endpointKey(host: string, subset: string | undefined): string {
  return `${host}|${subset ?? ""}`;
}

export interface SidecarOptions {
  host: ProxyWasmHost;
  /** Current VirtualService specs (read on every request, so updates apply at once). */
  virtualServices: () => VirtualServiceSpec[];
  /** (service host, subset) -> local address. */
  endpoints: () => EndpointMap;
  port?: number;
  /** Default upstream timeout when the route has none (Istio's default is no timeout; 15 s here). */
  defaultTimeoutMs?: number;
}

export interface Sidecar {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
/** The part of an HTTP/1 or HTTP/2 compatibility response the proxy uses. */
interface AnyResponse {
  readonly headersSent: boolean;
  writeHead(status: number, headers: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array): unknown;
  end(body: Uint8Array): unknown;
  destroy(): unknown;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "host",
]);
const HTTP2_PREFACE = "PRI * HTTP/2.0";
const EMPTY = new Uint8Array();

function requestHeaders(req: AnyRequest): Headers {
  const authority = String(req.headers[":authority"] ?? req.headers.host ?? "");
  const out: Headers = [
    [":authority", authority],
    [":path", req.url ?? "/"],
    [":method", req.method ?? "GET"],
    [":scheme", "http"],
  ];
  pushRawHeaders(out, req.rawHeaders);
  return out;
}

/**
 * Request headers as separate entries in arrival order, as Envoy's header map keeps them: Node's
 * `req.headers` joins repeats ("a, b"), which would turn two pin headers into one unknown value.
 */
function pushRawHeaders(out: Headers, raw: string[]): void {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    if (k.startsWith(":") || HOP_BY_HOP.has(k)) continue;
    out.push([k, raw[i + 1]!]);
  }
}

function pushHeaders(out: Headers, headers: IncomingHttpHeaders): void {
  for (const [k, v] of Object.entries(headers)) {
    if (k.startsWith(":") || HOP_BY_HOP.has(k) || v === undefined) continue;
    for (const value of Array.isArray(v) ? v : [v]) out.push([k, String(value)]);
  }
}

function viewOf(headers: Headers): RequestView {
  const map = new Map<string, string>();
  for (const [k, v] of headers) if (!map.has(k)) map.set(k, v);
  const authority = (map.get(":authority") ?? "").replace(/:\d+$/, "").toLowerCase();
  return { authority, path: map.get(":path") ?? "/", method: map.get(":method") ?? "GET", headers: map };
}

function toNodeHeaders(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of headers) {
    if (k.startsWith(":") || HOP_BY_HOP.has(k)) continue;
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Envoy's shadow authority: "host-shadow", or "host-shadow:port" (shadow_writer_impl.cc). */
export function shadowAuthority(authority: string): string {
  const m = /^(.*?)(:\d+)?$/.exec(authority);
  return `${m?.[1] ?? authority}-shadow${m?.[2] ?? ""}`;
}

/** Envoy's HTTP → gRPC status mapping for local replies (Grpc::Utility::httpToGrpcStatus). */
export function grpcStatusOf(http: number): number {
  const map: Record<number, number> = {
    400: 13,
    401: 16,
    403: 7,
    404: 12,
    429: 14,
    502: 14,
    503: 14,
    504: 14,
  };
  return map[http] ?? 2;
}

/** One proxied exchange; owns the filter stream so `complete` runs exactly once. */
class Exchange {
  private readonly started = process.hrtime.bigint();
  private requestBytes = 0;
  private responseBytes = 0;
  private done = false;
  private route: { upstreamAddress?: string; clusterName?: string; routeName?: string } = {};

  constructor(
    private readonly stream: HttpStream,
    private readonly req: AnyRequest,
    private readonly res: AnyResponse,
    private readonly opts: SidecarOptions,
  ) {}

  run(): void {
    const outcome = this.stream.requestHeaders(requestHeaders(this.req), false);
    if (outcome.localReply) {
      this.req.resume();
      this.reply(outcome.localReply.status, outcome.localReply.headers, outcome.localReply.body, 0);
      return;
    }
    const view = viewOf(outcome.headers);
    const choice = routeRequest(this.opts.virtualServices(), view, Math.random(), Math.random());
    if (!choice) {
      this.localReply(404, ResponseFlag.NoRouteFound);
      return;
    }
    const address = this.opts.endpoints().get(endpointKey(choice.host, choice.subset));
    this.route = {
      routeName: choice.routeName,
      clusterName: `outbound|${choice.port ?? 80}|${choice.subset ?? ""}|${choice.host}`,
      upstreamAddress: address,
    };
    if (!address) {
      this.localReply(503, ResponseFlag.NoHealthyUpstream);
      return;
    }
    // Envoy applies the route's header removals before it mirrors, so the copy carries no marker either.
    const headers = outcome.headers.filter(([k]) => !choice.removeHeaders.includes(k));
    if (choice.mirror) this.mirror(choice.mirror, headers);
    this.forward(address, headers, choice.timeoutMs ?? this.opts.defaultTimeoutMs ?? 15_000);
  }

  /**
   * Envoy's request mirroring: a copy (headers and body) to the mirror's endpoint with the
   * authority's host suffixed "-shadow" (before any port), the response discarded.
   */
  private mirror(to: NonNullable<RouteChoice["mirror"]>, headers: Headers): void {
    const address = this.opts.endpoints().get(endpointKey(to.host, to.subset));
    if (!address) return;
    const copy = this.upstreamRequest(address, headers, shadowAuthority);
    copy.on("response", (r) => r.resume());
    copy.on("error", () => undefined);
    this.req.on("data", (chunk: Buffer) => copy.write(chunk));
    this.req.on("end", () => copy.end());
  }

  /** The request to an upstream address with the filtered headers, its Host from the :authority. */
  private upstreamRequest(address: string, headers: Headers, host: (authority: string) => string) {
    const [hostname, port] = address.split(":");
    const authority = headers.find(([k]) => k === ":authority")?.[1] ?? "";
    return httpRequest({
      hostname,
      port: Number(port),
      method: this.req.method,
      path: this.req.url,
      headers: { ...toNodeHeaders(headers), host: host(authority) },
    });
  }

  private forward(address: string, headers: Headers, timeoutMs: number): void {
    const upstream = this.upstreamRequest(address, headers, (a) => a);
    upstream.setTimeout(timeoutMs, () => {
      upstream.destroy();
      this.localReply(504, ResponseFlag.UpstreamRequestTimeout);
    });
    upstream.on("error", (err: NodeJS.ErrnoException) => {
      const flag =
        err.code === "ECONNREFUSED"
          ? ResponseFlag.UpstreamConnectionFailure
          : ResponseFlag.UpstreamRemoteReset;
      this.localReply(503, flag);
    });
    upstream.on("response", (up) => {
      const status = up.statusCode ?? 502;
      const respHeaders: Headers = [[":status", String(status)]];
      pushHeaders(respHeaders, up.headers);
      const filtered = this.stream.responseHeaders(status, respHeaders, false);
      if (this.res.headersSent || this.done) {
        up.resume();
        return;
      }
      if (filtered.localReply) {
        up.resume();
        this.reply(filtered.localReply.status, filtered.localReply.headers, filtered.localReply.body, 0);
        return;
      }
      this.res.writeHead(status, toNodeHeaders(filtered.headers));
      // Each chunk passes through on_response_body as Envoy's encodeData does; a stop holds the
      // bytes (Envoy buffers them) until a later Continue or the end of the stream.
      let held: Buffer[] = [];
      up.on("data", (chunk: Buffer) => {
        this.responseBytes += chunk.length;
        held.push(chunk);
        if (this.stream.responseBody(chunk, false).action === "stop") return;
        for (const c of held) this.res.write(c);
        held = [];
      });
      up.on("end", () => {
        this.stream.responseBody(EMPTY, true);
        for (const c of held) this.res.write(c);
        this.res.end(EMPTY);
        this.finish(status, 0);
      });
      up.on("error", () => this.abort(status, ResponseFlag.UpstreamRemoteReset));
    });
    this.req.on("data", (chunk: Buffer) => {
      this.requestBytes += chunk.length;
      upstream.write(chunk);
    });
    this.req.on("end", () => upstream.end());
  }

  /**
   * An Envoy-style local reply (no upstream response): the status the router would send. To a gRPC
   * request Envoy answers `:status 200` with the status in `grpc-status` (test/envoy/conformance).
   */
  private localReply(status: number, flags: number): void {
    this.req.resume();
    if (this.res.headersSent) {
      this.abort(undefined, flags);
      return;
    }
    const grpc = String(this.req.headers["content-type"] ?? "").startsWith("application/grpc");
    const sent = grpc ? 200 : status;
    const raw: Headers = grpc
      ? [
          [":status", "200"],
          ["content-type", "application/grpc"],
          ["grpc-status", String(grpcStatusOf(status))],
        ]
      : [[":status", String(status)]];
    const headers = this.stream.responseHeaders(sent, raw, true).headers;
    this.reply(sent, headers, new Uint8Array(), flags);
  }

  private reply(status: number, headers: Headers, body: Uint8Array, flags: number): void {
    if (this.done) return;
    this.res.writeHead(status, toNodeHeaders(headers));
    this.res.end(body);
    this.responseBytes += body.length;
    this.finish(status, flags);
  }

  private abort(status: number | undefined, flags: number): void {
    this.res.destroy();
    this.finish(status, flags);
  }

  private finish(responseCode: number | undefined, responseFlags: number): void {
    if (this.done) return;
    this.done = true;
    this.stream.complete({
      responseCode,
      responseFlags,
      durationNs: process.hrtime.bigint() - this.started,
      requestBytes: this.requestBytes,
      responseBytes: this.responseBytes,
      ...this.route,
    });
  }
}

/** The socket as a plain duplex stream that yields `first` again before the rest. */
function replayed(socket: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read: () => {
      socket.resume();
    },
    write: (chunk: Buffer, _enc, cb) => {
      socket.write(chunk, cb);
    },
    final: (cb) => {
      socket.end();
      cb();
    },
    destroy: (err, cb) => {
      socket.destroy();
      cb(err);
    },
  });
  d.push(first);
  socket.on("data", (chunk: Buffer) => {
    if (!d.push(chunk)) socket.pause();
  });
  socket.on("end", () => d.push(null));
  socket.on("close", () => d.destroy());
  socket.on("error", (err) => d.destroy(err));
  return d;
}

export async function startSidecar(opts: SidecarOptions): Promise<Sidecar> {
  const handle = (req: AnyRequest, res: AnyResponse, protocol: "HTTP/1.1" | "HTTP/2"): void => {
    new Exchange(opts.host.startStream(undefined, { protocol }), req, res, opts).run();
  };
  const h1 = createHttp1Server((req, res) => handle(req, res, "HTTP/1.1"));
  const h2 = createHttp2Server((req, res) => handle(req, res, "HTTP/2"));
  const sockets = new Set<Socket>();
  // One port for both protocols: HTTP/2 with prior knowledge starts with the connection preface.
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.once("data", (first) => {
      socket.pause();
      if (first.toString("latin1", 0, HTTP2_PREFACE.length) === HTTP2_PREFACE) {
        // The HTTP/2 server reads the socket's native handle, so unshifted bytes would be lost.
        h2.emit("connection", replayed(socket, first));
        return;
      }
      socket.unshift(first);
      h1.emit("connection", socket);
      socket.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        h1.close();
        h2.close();
        server.close(() => resolve());
      }),
  };
}
