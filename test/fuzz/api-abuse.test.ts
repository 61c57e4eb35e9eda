/**
 * HTTP API abuse not covered by test/api: slowloris-style partial headers and stalled bodies are cut
 * off by the server's timeouts, an oversized chunked body (no Content-Length) is refused while
 * streaming, and none of it runs a command or stops the server answering others.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetricsRegistry } from "../../controller/api/metrics.js";
import { type ApiServer, startApiServer } from "../../controller/api/server.js";
import { FakeBackend, sampleCanary } from "../api/fake-backend.js";
import { request } from "../api/http-client.js";

const TOKEN = "abuse-token";
const backend = new FakeBackend();
backend.add(sampleCanary("shop", "checkout"));
let server: ApiServer;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startApiServer({
    port: 0,
    backend,
    writeToken: TOKEN,
    metricsRegistry: createMetricsRegistry({
      canaries: () => backend.listCanaries(),
      windows: () => [],
      defaultMetrics: false,
    }),
    timeouts: { headersMs: 300, requestMs: 600, checkIntervalMs: 100 },
  });
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await server.close();
});

/** A raw connection; resolves `closed` with what the server sent before closing it. */
function raw(): { socket: Socket; closed: Promise<string> } {
  const socket = connect(server.port, "127.0.0.1");
  sockets.push(socket);
  let got = "";
  socket.on("data", (d) => {
    got += d.toString("utf8");
  });
  const closed = new Promise<string>((resolve, reject) => {
    // Bound: a server that never cuts the client off fails here instead of hanging the suite.
    const timer = setTimeout(() => reject(new Error("server kept the slow connection open for 5 s")), 5000);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.on("error", () => undefined);
  });
  return { socket, closed };
}

/** Writes `piece` every `everyMs` until the socket closes. */
function dribble(socket: Socket, piece: string, everyMs: number): void {
  const timer = setInterval(() => {
    if (socket.destroyed) clearInterval(timer);
    else socket.write(piece);
  }, everyMs);
  socket.on("close", () => clearInterval(timer));
}

const healthy = async () => (await request(`${server.url}/healthz`)).status;

describe("API under slow and oversized requests", () => {
  it("cuts off headers that never finish (slowloris) and keeps serving others", async () => {
    const conns = Array.from({ length: 30 }, () => raw());
    for (const { socket } of conns) {
      socket.write("POST /api/v1/canaries/shop/checkout/abort HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      dribble(socket, "X-Slow: 1\r\n", 50);
    }
    expect(await healthy()).toBe(200);
    const replies = await Promise.all(conns.map((c) => c.closed));
    for (const r of replies) expect(r === "" || r.startsWith("HTTP/1.1 408")).toBe(true);
    expect(backend.commands).toEqual([]);
    expect(await healthy()).toBe(200);
  });

  it("cuts off a body that stalls after the headers, without running the command", async () => {
    const { socket, closed } = raw();
    socket.write(
      "POST /api/v1/canaries/shop/checkout/abort HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        `Authorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`,
    );
    dribble(socket, " ", 50);
    const reply = await closed;
    expect(reply).not.toMatch(/^HTTP\/1\.1 200/);
    expect(backend.commands).toEqual([]);
    expect(await healthy()).toBe(200);
  });

  it("refuses an oversized chunked body (no Content-Length) with 413 while it streams", async () => {
    const { socket, closed } = raw();
    const chunk = "x".repeat(8192);
    socket.write(
      "POST /api/v1/canaries/shop/checkout/abort HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        `Authorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
    );
    for (let i = 0; i < 8; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    socket.write("0\r\n\r\n");
    const reply = await closed;
    expect(reply).toMatch(/^HTTP\/1\.1 413/);
    expect(backend.commands).toEqual([]);
  });

  it("refuses a declared 1 GB body before reading it", async () => {
    const { socket, closed } = raw();
    socket.write(
      "POST /api/v1/canaries/shop/checkout/abort HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        `Authorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n{}`,
    );
    const reply = await closed;
    expect(reply).toMatch(/^HTTP\/1\.1 413/);
    expect(backend.commands).toEqual([]);
  });
});
