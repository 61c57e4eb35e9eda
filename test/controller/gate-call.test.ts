/**
 * callGate against real local HTTP servers, friendly and hostile: every call ends within the gate's
 * timeout with a one-line reason, reads no more than an excerpt, follows no redirect and never
 * quotes the URL's secrets.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callGate, type GatePayload, type GateTarget } from "../../controller/notify/gate-call.js";
import type { Json } from "./harness.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

const payload: GatePayload = {
  name: "reviews",
  namespace: "default",
  canary: "default/reviews",
  type: "pre-rollout",
  phase: "Initializing",
  revision: "r1",
  step: 0,
  canaryWeight: 0,
  metadata: { suite: "smoke" },
  at: "2026-12-07T10:00:00.000Z",
};
const gate = (url: string, extra: Partial<GateTarget> = {}): GateTarget => ({
  name: "smoke",
  type: "pre-rollout",
  url,
  timeoutSeconds: 1,
  ...extra,
});

let received: Json[] = [];
let base: string;
/** Bytes a streaming handler managed to write before the client went away. */
const written: Record<string, number> = {};

function stream(name: string, status: number, chunk: string, total: number): Handler {
  return (_req, res) => {
    res.writeHead(status, { "content-type": "text/plain" });
    written[name] = 0;
    const pump = () => {
      while (written[name]! < total) {
        written[name]! += chunk.length;
        if (!res.write(chunk)) {
          res.once("drain", pump);
          return;
        }
      }
      res.end();
    };
    res.on("error", () => undefined);
    pump();
  };
}

beforeAll(async () => {
  const other = await serve((_req, res) => {
    received.push({ other: true });
    res.writeHead(200).end();
  });
  const routes: Record<string, Handler> = {
    "/ok": (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({
          body: JSON.parse(Buffer.concat(chunks).toString()),
          contentType: req.headers["content-type"],
          authorization: req.headers.authorization,
        });
        res.writeHead(202).end("accepted");
      });
    },
    "/busy": (_req, res) => res.writeHead(503).end("warming up\n"),
    "/escapes": (_req, res) => res.writeHead(500).end("\u001b[31mred\u001b[0m\r\nline two\u0007"),
    "/hang": () => {},
    "/trickle": (_req, res) => {
      res.writeHead(200);
      const t = setInterval(() => res.write("."), 100);
      res.on("close", () => clearInterval(t));
    },
    "/huge-fail": stream("huge-fail", 500, "x".repeat(64 * 1024), 512 * 1024 * 1024),
    "/huge-ok": stream("huge-ok", 200, "y".repeat(64 * 1024), 512 * 1024 * 1024),
    "/redirect": (_req, res) => res.writeHead(302, { location: `${other}/steal?token=abc` }).end(),
  };
  base = await serve((req, res) => routes[(req.url ?? "").split("?")[0]!]!(req, res));
});

describe("callGate", () => {
  it("passes on a 2xx and posts Flagger's fields with metadata", async () => {
    received = [];
    expect(await callGate(gate(`${base}/ok`), payload)).toEqual({ passed: true, message: "HTTP 202" });
    expect(received).toEqual([{ body: payload, contentType: "application/json", authorization: undefined }]);
  });

  it("fails on a non-2xx with the start of the body as the reason", async () => {
    expect(await callGate(gate(`${base}/busy`), payload)).toEqual({
      passed: false,
      message: "HTTP 503: warming up",
    });
  });

  it("strips control characters (terminal escapes) from the reason", async () => {
    const r = await callGate(gate(`${base}/escapes`), payload);
    expect(r.message).toBe("HTTP 500: [31mred [0m line two");
  });

  const bounded: Array<[string, string, boolean, RegExp]> = [
    ["never answers", "/hang", false, /^timed out after 1s$/],
    ["answers 200 but trickles the body forever", "/trickle", false, /^timed out after 1s$/],
    ["fails with a 512 MiB body", "/huge-fail", false, /^HTTP 500: x{200}…$/],
    ["passes with a 512 MiB body", "/huge-ok", true, /^HTTP 200$/],
  ];
  it.each(bounded)("ends within its timeout when the gate %s", async (_, path, passed, message) => {
    const started = Date.now();
    const r = await callGate(gate(`${base}${path}`), payload);
    expect(r.passed).toBe(passed);
    expect(r.message).toMatch(message);
    // A bound (timeout + slack on a loaded machine), not a timing assertion.
    expect(Date.now() - started).toBeLessThan(5000);
    const name = path.slice(1);
    if (written[name] !== undefined) expect(written[name]).toBeLessThan(64 * 1024 * 1024);
  });

  it("does not follow a redirect to another host, and says where it pointed", async () => {
    received = [];
    const r = await callGate(gate(`${base}/redirect`), payload);
    const otherOrigin = new URL(base).origin.replace(/:\d+$/, "");
    expect(r.passed).toBe(false);
    expect(r.message).toMatch(new RegExp(`^HTTP 302: redirect to ${otherOrigin}:\\d+ not followed$`));
    expect(r.message).not.toContain("token");
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toEqual([]);
  });

  it("reports a refused connection by origin only, never the path, query or credentials", async () => {
    const closed = await serve(() => {});
    const port = new URL(closed).port;
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    const r = await callGate(gate(`http://ops:s3cret@127.0.0.1:${port}/hook/T0KEN?sig=abc`), payload);
    expect(r.passed).toBe(false);
    expect(r.message).toContain("ECONNREFUSED");
    for (const secret of ["s3cret", "T0KEN", "sig=abc", "ops"]) expect(r.message).not.toContain(secret);
  });

  it("sends userinfo as Basic auth", async () => {
    received = [];
    const url = `${base}/ok`.replace("http://", "http://ops:p%40ss@");
    expect((await callGate(gate(url), payload)).passed).toBe(true);
    expect(received[0]?.authorization).toBe(`Basic ${Buffer.from("ops:p@ss").toString("base64")}`);
  });

  it("ends at once when cancelled", async () => {
    const stop = new AbortController();
    const call = callGate(gate(`${base}/hang`, { timeoutSeconds: 30 }), payload, stop.signal);
    setTimeout(() => stop.abort(), 50);
    expect(await call).toEqual({ passed: false, message: "cancelled" });
  });
});
