/** Webhook notifier against a real local HTTP server: filtering by events, payload, retries. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpNotifier } from "../../controller/notify/webhooks.js";
import type { Json } from "./harness.js";

let server: Server;
let url: string;
const received: Array<{ path: string; body: Json; authorization?: string }> = [];
let failNext = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (failNext > 0) {
        failNext--;
        res.writeHead(500).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString());
      received.push({
        path: req.url ?? "",
        body,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const payload = {
  canary: "default/c",
  namespace: "default",
  name: "c",
  event: "RolledBack" as const,
  step: 1,
  canaryWeight: 0,
  message: "analysis failed",
  at: "2026-01-01T00:00:00.000Z",
};

describe("httpNotifier", () => {
  it("posts to the webhooks whose events match, retrying a failed delivery", async () => {
    const notifier = httpNotifier({ logger: pino({ level: "silent" }), backoffMs: 10 });
    failNext = 1;
    notifier.notify(
      [
        { name: "all", url: `${url}/all` },
        { name: "done", url: `${url}/done`, events: ["Succeeded"] },
        { name: "bad", url: `${url}/bad`, events: ["RolledBack", "Aborted"] },
      ],
      payload,
    );
    await notifier.close();
    expect(received.map((r) => r.path).sort()).toEqual(["/all", "/bad"]);
    expect(received[0]!.body).toEqual(payload);
  });

  it("sends credentials in the URL's userinfo as Basic auth", async () => {
    const notifier = httpNotifier({ logger: pino({ level: "silent" }), backoffMs: 10 });
    const withUser = url.replace("http://", "http://ops:p%40ss@");
    notifier.notify([{ name: "basic", url: `${withUser}/basic?k=v` }], payload);
    await notifier.close();
    const got = received.find((r) => r.path === "/basic?k=v");
    expect(got?.authorization).toBe(`Basic ${Buffer.from("ops:p@ss").toString("base64")}`);
  });
});
