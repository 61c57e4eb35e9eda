/**
 * Server-Sent Events fan-out of ApiEvents. Bounded: a limited number of clients, and a client that
 * stops reading (its socket buffer grows past a limit) is dropped rather than buffered forever.
 */
import type { ServerResponse } from "node:http";
import type { ApiEvent } from "./types.js";

export interface EventStreamOptions {
  /** Interval of heartbeat comments that keep proxies from closing idle streams, ms. */
  heartbeatMs: number;
  maxClients: number;
  /** Unsent bytes a client may lag behind before it is dropped. */
  maxBufferedBytes: number;
}

export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  private nextId = 1;

  constructor(private readonly opts: EventStreamOptions) {
    this.heartbeat = setInterval(() => this.writeAll(": heartbeat\n\n"), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Whether another client may connect. */
  hasRoom(): boolean {
    return this.clients.size < this.opts.maxClients;
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over the response as an event stream until the client goes away. */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 3000\n: connected\n\n");
    this.clients.add(res);
    res.on("close", () => this.clients.delete(res));
  }

  publish(event: ApiEvent): void {
    this.writeAll(`id: ${this.nextId++}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  /** Ends every stream and stops the heartbeat. */
  close(): void {
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private writeAll(chunk: string): void {
    for (const res of this.clients) {
      if (res.writableLength > this.opts.maxBufferedBytes) {
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(chunk);
    }
  }
}
