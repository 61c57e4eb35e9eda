/** Webhook notifier against a real local HTTP server: filtering by events, payload, retries. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { formatPayload } from "../../controller/notify/formats.js";
import { httpNotifier } from "../../controller/notify/webhooks.js";
import type { Json } from "./harness.js";

let server: Server;
let url: string;
const received: Array<{ path: string; body: Json; authorization?: string; contentType?: string }> = [];
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
        contentType: req.headers["content-type"],
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

  it("posts each webhook in its format with its content type", async () => {
    const notifier = httpNotifier({ logger: pino({ level: "silent" }), backoffMs: 10 });
    const formats = ["slack", "teams", "cloudevents"] as const;
    notifier.notify(
      formats.map((format) => ({ name: format, url: `${url}/${format}`, format })),
      payload,
    );
    await notifier.close();
    for (const format of formats) {
      const got = received.find((r) => r.path === `/${format}`);
      expect(got?.body).toEqual(JSON.parse(formatPayload(format, payload).body));
      expect(got?.contentType).toBe(
        format === "cloudevents" ? "application/cloudevents+json" : "application/json",
      );
    }
  });
});

describe("notification formats (the samples in test/fixtures/notify/)", () => {
  const sample = (name: string) =>
    JSON.parse(readFileSync(`test/fixtures/notify/${name}.json`, "utf8")) as Json;
  const event = sample("payload");

  it.each(["json", "slack", "teams", "cloudevents"] as const)("%s matches its sample", (format) => {
    expect(JSON.parse(formatPayload(format, event).body)).toEqual(sample(format));
  });

  it("Slack text escapes the characters Slack reads as markup", () => {
    const text = sample("slack").text as string;
    expect(text).toContain("212× &gt; 100×");
    expect(text).not.toMatch(/[<>]/);
  });

  it("a CloudEvent has the required attributes, a type per phase and the payload as data", () => {
    const ce = sample("cloudevents");
    expect(ce).toMatchObject({ specversion: "1.0", type: "io.meshcanary.rollout.rolledback", data: event });
    for (const attribute of ["id", "source", "specversion", "type"]) expect(ce[attribute]).toBeTruthy();
    const other = JSON.parse(formatPayload("cloudevents", { ...event, event: "Succeeded" }).body);
    expect(other.type).toBe("io.meshcanary.rollout.succeeded");
    expect(other.id).not.toBe(ce.id);
  });

  it("a Teams message is one Adaptive Card with the facts of the transition", () => {
    const card = sample("teams").attachments[0];
    expect(card.contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(card.content.type).toBe("AdaptiveCard");
    const facts = Object.fromEntries(card.content.body[2].facts.map((f: Json) => [f.title, f.value]));
    expect(facts).toMatchObject({
      Canary: "shop/reviews",
      Phase: "RolledBack",
      Step: "2",
      "Canary weight": "0%",
    });
  });
});
