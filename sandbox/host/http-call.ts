// proxy_http_call (host contract §9.1): validated synchronously, delivered with fetch to the
// cluster's address. Router-style failures arrive as ordinary 503/504 responses.
import { WasmResult } from "./abi.js";
import type { Headers as Pairs } from "./pairs.js";

/** A completed callout as on_http_call_response sees it. */
export interface HttpCallResult {
  token: number;
  headers: Pairs;
  body: Uint8Array;
  trailers: Pairs;
}

/** One VM's HTTP callouts. Tokens 4, 8, 12, …. */
export class HttpCallouts {
  private nextToken = 4;
  private readonly pending = new Map<number, AbortController>();

  constructor(
    private readonly clusters: Record<string, string>,
    private readonly deliver: (rootId: number, result: HttpCallResult) => void,
  ) {}

  /** Returns [result, token]. */
  call(
    rootId: number,
    cluster: string,
    headers: Pairs,
    body: Uint8Array,
    timeoutMs: number,
  ): [number, number] {
    if (timeoutMs < 0 || !Object.hasOwn(this.clusters, cluster)) return [WasmResult.BadArgument, 0];
    const get = (k: string): string | undefined => headers.find(([n]) => n === k)?.[1];
    const path = get(":path");
    const method = get(":method");
    const authority = get(":authority");
    if (!path || !method || !authority) return [WasmResult.BadArgument, 0];
    const token = this.nextToken;
    this.nextToken += 4;
    const abort = new AbortController();
    this.pending.set(token, abort);
    const timer = timeoutMs > 0 ? setTimeout(() => abort.abort("timeout"), timeoutMs) : undefined;
    const plain = headers.filter(([k]) => !k.startsWith(":") && k !== "host");
    fetch(`http://${this.clusters[cluster]}${path}`, {
      method,
      headers: plain,
      body: body.length ? new Uint8Array(body) : undefined,
      signal: abort.signal,
    })
      .then(async (res) => {
        const resBody = new Uint8Array(await res.arrayBuffer());
        const resHeaders: Pairs = [
          [":status", String(res.status)],
          ...(res.headers as unknown as Iterable<[string, string]>),
        ];
        return { token, headers: resHeaders, body: resBody, trailers: [] };
      })
      .catch(() => {
        const status = abort.signal.aborted ? 504 : 503;
        const text = status === 504 ? "upstream request timeout" : "no healthy upstream";
        const b = new TextEncoder().encode(text);
        return { token, headers: localHeaders(status, b.length), body: b, trailers: [] };
      })
      .then((result) => {
        clearTimeout(timer);
        if (this.pending.delete(token)) this.deliver(rootId, result);
      });
    return [WasmResult.Ok, token];
  }

  cancelAll(): void {
    for (const a of this.pending.values()) a.abort("cancelled");
    this.pending.clear();
  }
}

function localHeaders(status: number, length: number): Pairs {
  return [
    [":status", String(status)],
    ["content-length", String(length)],
    ["content-type", "text/plain"],
  ];
}
