// Dashboard event streams under abuse, over real HTTP: one client address cannot take every slot
// (others still connect), and a client that connects and never reads is dropped once its writes
// stop draining, while a reading client keeps its stream.
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetricsRegistry } from "../../controller/api/metrics.js";
import { type ApiServer, startApiServer } from "../../controller/api/server.js";
import { FakeBackend, sampleCanary } from "./fake-backend.js";

const backend = new FakeBackend();
let server: ApiServer;
const sockets: Socket[] = [];

beforeAll(async () => {
  backend.add(sampleCanary("shop", "checkout", 0));
  server = await startApiServer({
    port: 0,
    backend,
    metricsRegistry: createMetricsRegistry({
      canaries: () => backend.listCanaries(),
      windows: () => [],
      defaultMetrics: false,
    }),
    heartbeatMs: 50,
    maxEventClients: 20,
    maxEventClientsPerPeer: 3,
  });
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await server.close();
});

/** A raw event-stream request from `localAddress`; resolves with the socket and the status line's code. */
function openRaw(
  localAddress: string,
  read = true,
): Promise<{ socket: Socket; status: number; bytes: () => number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: server.port, localAddress });
    sockets.push(socket);
    let received = 0;
    let head = "";
    socket.on("error", () => undefined);
    socket.once("connect", () => socket.write("GET /api/v1/events HTTP/1.1\r\nhost: x\r\n\r\n"));
    socket.on("data", (b: Buffer) => {
      received += b.length;
      if (head === "") {
        head = b.toString("latin1");
        const status = Number(head.split(" ")[1]);
        // A client that does not read: from here on the kernel buffers fill, then the server's.
        if (!read) socket.pause();
        resolve({ socket, status, bytes: () => received });
      }
    });
    socket.once("close", () => (head === "" ? reject(new Error("closed before a response")) : undefined));
  });
}

const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once("close", () => r())));

describe("event stream limits", () => {
  it("caps streams per client address; other addresses still connect", async () => {
    const mine = await Promise.all([1, 2, 3].map(() => openRaw("127.0.0.1")));
    expect(mine.map((c) => c.status)).toEqual([200, 200, 200]);
    expect((await openRaw("127.0.0.1")).status).toBe(429);
    expect((await openRaw("127.0.0.2")).status).toBe(200);
    for (const c of mine) c.socket.destroy();
  });

  it("drops a client that never reads; a reading client keeps its stream", async () => {
    const idle = await openRaw("127.0.0.3", false);
    const reader = await openRaw("127.0.0.4");
    const big = "x".repeat(64 * 1024);
    const events = 300;
    // 19 MiB in all: more than the kernel's socket buffers and the server's 1 MiB allowance hold.
    for (let i = 0; i < events; i++) {
      backend.emit({ type: "canary", canary: { ...backend.listCanaries()[0]!, message: big } as never });
      await new Promise((r) => setTimeout(r, 2));
    }
    // Reading now, the idle client finds its stream ended part-way: it was dropped.
    idle.socket.resume();
    await closed(idle.socket);
    expect(idle.bytes()).toBeLessThan(events * big.length);
    expect(reader.socket.destroyed).toBe(false);
    const before = reader.bytes();
    await new Promise((r) => setTimeout(r, 200));
    expect(reader.bytes()).toBeGreaterThan(before);
  }, 20_000);
});
