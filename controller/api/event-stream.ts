/**
 * Server-Sent Events fan-out of ApiEvents. Bounded: a limited number of clients in all and per
 * client address (one client cannot take every slot and lock the dashboards out), and a client
 * that stops reading is dropped rather than buffered forever: when its unsent bytes pass a limit,
 * or when a write has waited for the socket to drain longer than `stallMs`.
 */
import type { ServerResponse } from "node:http";
import type { ApiEvent } from "./types.js";

export interface EventStreamOptions {
  /** Interval of heartbeat comments that keep proxies from closing idle streams, ms. */
  heartbeatMs: number;
  maxClients: number;
  /** Most streams one client address may hold. */
  maxClientsPerPeer: number;
  /** Unsent bytes a client may lag behind before it is dropped. */
  maxBufferedBytes: number;
  /** How long a client may leave a write undrained (not reading) before it is dropped, ms. */
  stallMs: number;
  /** Clock, ms; injectable for tests. */
  now?: () => number;
}

/** Which events a client may see (its caller may read their canary); absent: all. */
export type EventFilter = (event: ApiEvent) => Promise<boolean>;

/** One connected client: its address and since when a write waits for it to read (0: none). */
interface Client {
  peer: string;
  stalledSince: number;
  filter?: EventFilter;
  /** Filtered events wait here in order, so a slow check never reorders a client's stream. */
  pending: Promise<void>;
}

/** Why a client may not connect now, or null when it may. */
export type Refusal = { status: 429 | 503; message: string } | null;

export class EventStream {
  private readonly clients = new Map<ServerResponse, Client>();
  private readonly perPeer = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly now: () => number;
  private nextId = 1;

  constructor(private readonly opts: EventStreamOptions) {
    this.now = opts.now ?? Date.now;
    this.heartbeat = setInterval(() => this.writeAll(": heartbeat\n\n"), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Whether a client at address `peer` may connect, or why not. */
  refusal(peer: string): Refusal {
    if ((this.perPeer.get(peer) ?? 0) >= this.opts.maxClientsPerPeer) {
      return { status: 429, message: `too many event streams from ${peer}` };
    }
    if (this.clients.size >= this.opts.maxClients)
      return { status: 503, message: "too many event stream clients" };
    return null;
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over the response as an event stream until the client goes away. */
  attach(res: ServerResponse, peer: string, filter?: EventFilter): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    const client: Client = {
      peer,
      stalledSince: 0,
      pending: Promise.resolve(),
      ...(filter ? { filter } : {}),
    };
    this.clients.set(res, client);
    this.perPeer.set(peer, (this.perPeer.get(peer) ?? 0) + 1);
    res.on("drain", () => {
      client.stalledSince = 0;
    });
    res.on("close", () => this.forget(res));
    this.write(res, client, "retry: 3000\n: connected\n\n");
  }

  publish(event: ApiEvent): void {
    const chunk = `id: ${this.nextId++}\ndata: ${JSON.stringify(event)}\n\n`;
    this.writeAll(chunk, (res, client) => {
      const filter = client.filter;
      if (!filter) return this.write(res, client, chunk);
      client.pending = client.pending.then(async () => {
        if ((await filter(event).catch(() => false)) && this.clients.has(res)) this.write(res, client, chunk);
      });
    });
  }

  /** Ends every stream and stops the heartbeat. */
  close(): void {
    clearInterval(this.heartbeat);
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
    this.perPeer.clear();
  }

  private writeAll(
    chunk: string,
    send: (res: ServerResponse, client: Client) => void = (res, client) => this.write(res, client, chunk),
  ): void {
    for (const [res, client] of this.clients) {
      const stalled = client.stalledSince > 0 && this.now() - client.stalledSince > this.opts.stallMs;
      if (stalled || res.writableLength > this.opts.maxBufferedBytes) {
        this.forget(res);
        res.destroy();
        continue;
      }
      send(res, client);
    }
  }

  private write(res: ServerResponse, client: Client, chunk: string): void {
    if (!res.write(chunk) && client.stalledSince === 0) client.stalledSince = this.now();
  }

  private forget(res: ServerResponse): void {
    const client = this.clients.get(res);
    if (!client) return;
    this.clients.delete(res);
    const n = (this.perPeer.get(client.peer) ?? 1) - 1;
    if (n > 0) this.perPeer.set(client.peer, n);
    else this.perPeer.delete(client.peer);
  }
}
