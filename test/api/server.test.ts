import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetricsRegistry } from "../../controller/api/metrics.js";
import { type ApiServer, startApiServer } from "../../controller/api/server.js";
import { FakeBackend, sampleCanary, samplePoint } from "./fake-backend.js";
import { openSse, request } from "./http-client.js";

const TOKEN = "s3cret-token-for-tests";
const T0 = Date.UTC(2025, 0, 1, 12);

function makeBackend(): FakeBackend {
  const b = new FakeBackend();
  b.add(sampleCanary("shop", "checkout", T0));
  b.add(sampleCanary("ml", "ranker", T0));
  for (let i = 0; i < 5; i++) b.appendPoint("shop", "checkout", samplePoint(T0 + i * 1000, i));
  return b;
}

function registryFor(b: FakeBackend) {
  return createMetricsRegistry({
    canaries: () => b.listCanaries(),
    windows: () => [],
    defaultMetrics: false,
  });
}

describe("API server (writes enabled)", () => {
  const backend = makeBackend();
  let server: ApiServer;
  const write = (path: string, headers: Record<string, string> = {}, body = "{}") =>
    request(server.url + path, { method: "POST", headers, body });
  const authed = { "content-type": "application/json", authorization: `Bearer ${TOKEN}` };
  const errors: unknown[] = [];

  beforeAll(async () => {
    server = await startApiServer({
      port: 0,
      backend,
      writeToken: TOKEN,
      metricsRegistry: registryFor(backend),
      heartbeatMs: 50,
      maxEventClients: 2,
      onError: (e) => errors.push(e),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it("lists canaries", async () => {
    const r = await request(`${server.url}/api/v1/canaries`);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
    const body = r.json() as { canaries: Array<{ namespace: string; name: string; phase: string }> };
    expect(body.canaries.map((c) => `${c.namespace}/${c.name}`).sort()).toEqual([
      "ml/ranker",
      "shop/checkout",
    ]);
    expect(body.canaries[0]).not.toHaveProperty("timeline");
  });

  it("returns one canary with timeline and spec, 404 for an unknown one", async () => {
    const r = await request(`${server.url}/api/v1/canaries/shop/checkout`);
    expect(r.status).toBe(200);
    const d = r.json() as { timeline: unknown[]; spec: { stepWeights: number[] }; canaryWeight: number };
    expect(d.timeline).toHaveLength(2);
    expect(d.spec.stepWeights).toEqual([10, 25, 50, 100]);
    expect(d.canaryWeight).toBe(25);

    const missing = await request(`${server.url}/api/v1/canaries/shop/nope`);
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ error: { code: "not_found", message: "canary shop/nope not found" } });
  });

  it("returns series points since a time and validates `since`", async () => {
    const r = await request(`${server.url}/api/v1/canaries/shop/checkout/series?since=${T0 + 2000}`);
    expect(r.status).toBe(200);
    const { points } = r.json() as { points: Array<{ t: number }> };
    expect(points.map((p) => p.t)).toEqual([T0 + 2000, T0 + 3000, T0 + 4000]);

    const bad = await request(`${server.url}/api/v1/canaries/shop/checkout/series?since=yesterday`);
    expect(bad.status).toBe(400);
    expect((bad.json() as { error: { message: string } }).error.message).toContain("since");
    expect((bad.json() as { error: { message: string } }).error.message).toContain("yesterday");

    const unknown = await request(`${server.url}/api/v1/canaries/x/y/series`);
    expect(unknown.status).toBe(404);
  });

  it("runs a command with the right token", async () => {
    const before = backend.commands.length;
    const r = await write("/api/v1/canaries/shop/checkout/pause", authed);
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ ok: true, namespace: "shop", name: "checkout", command: "pause" });
    expect(backend.commands.slice(before)).toEqual([
      { namespace: "shop", name: "checkout", command: "pause" },
    ]);
  });

  it("accepts an empty body and a same-origin Origin", async () => {
    const origin = server.url;
    const r = await write("/api/v1/canaries/shop/checkout/resume", { ...authed, origin }, "");
    expect(r.status).toBe(200);
    expect(backend.commands.at(-1)?.command).toBe("resume");
  });

  it("passes the backend's refusal through (404, 409)", async () => {
    const missing = await write("/api/v1/canaries/shop/nope/promote", authed);
    expect(missing.status).toBe(404);
    backend.commandResult = { ok: false, status: 409, message: "rollout already finished" };
    const conflict = await write("/api/v1/canaries/shop/checkout/promote", authed);
    backend.commandResult = { ok: true };
    expect(conflict.status).toBe(409);
    expect(conflict.json()).toEqual({ error: { code: "conflict", message: "rollout already finished" } });
  });

  it("refuses writes without, or with a wrong, bearer token", async () => {
    const before = backend.commands.length;
    const none = await write("/api/v1/canaries/shop/checkout/abort", { "content-type": "application/json" });
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
    const wrong = await write("/api/v1/canaries/shop/checkout/abort", {
      "content-type": "application/json",
      authorization: "Bearer not-the-token",
    });
    expect(wrong.status).toBe(401);
    const prefix = await write("/api/v1/canaries/shop/checkout/abort", {
      "content-type": "application/json",
      authorization: `Bearer ${TOKEN.slice(0, -1)}`,
    });
    expect(prefix.status).toBe(401);
    const basic = await write("/api/v1/canaries/shop/checkout/abort", {
      "content-type": "application/json",
      authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}`,
    });
    expect(basic.status).toBe(401);
    expect(backend.commands.length).toBe(before);
  });

  it("never takes the token from the query string or a cookie", async () => {
    const before = backend.commands.length;
    for (const q of [`token=${TOKEN}`, `access_token=${TOKEN}`]) {
      const r = await write(`/api/v1/canaries/shop/checkout/abort?${q}`, {
        "content-type": "application/json",
      });
      expect(r.status).toBe(401);
    }
    const cookie = await write("/api/v1/canaries/shop/checkout/abort", {
      "content-type": "application/json",
      cookie: `token=${TOKEN}; meshcanary.token=${TOKEN}`,
    });
    expect(cookie.status).toBe(401);
    expect(backend.commands.length).toBe(before);
  });

  it("refuses cross-site writes: form content types and foreign origins", async () => {
    const before = backend.commands.length;
    for (const type of [
      "application/x-www-form-urlencoded",
      "text/plain",
      "multipart/form-data; boundary=x",
    ]) {
      const r = await write("/api/v1/canaries/shop/checkout/abort", { ...authed, "content-type": type });
      expect(r.status, type).toBe(415);
    }
    const missingType = await request(`${server.url}/api/v1/canaries/shop/checkout/abort`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(missingType.status).toBe(415);
    const foreign = await write("/api/v1/canaries/shop/checkout/abort", {
      ...authed,
      origin: "https://evil.example",
    });
    expect(foreign.status).toBe(403);
    expect((foreign.json() as { error: { message: string } }).error.message).toContain("evil.example");
    const otherPort = await write("/api/v1/canaries/shop/checkout/abort", {
      ...authed,
      origin: `http://127.0.0.1:${server.port + 1}`,
    });
    expect(otherPort.status).toBe(403);
    expect(backend.commands.length).toBe(before);
  });

  it("bounds and validates the request body", async () => {
    const big = await write(
      "/api/v1/canaries/shop/checkout/pause",
      authed,
      JSON.stringify({ x: "a".repeat(20_000) }),
    );
    expect(big.status).toBe(413);
    const notJson = await write("/api/v1/canaries/shop/checkout/pause", authed, "{nope");
    expect(notJson.status).toBe(400);
    const array = await write("/api/v1/canaries/shop/checkout/pause", authed, "[]");
    expect(array.status).toBe(400);
  });

  it("404s unknown commands and paths, 405s wrong methods", async () => {
    const cmd = await write("/api/v1/canaries/shop/checkout/explode", authed);
    expect(cmd.status).toBe(404);
    expect((cmd.json() as { error: { message: string } }).error.message).toContain("explode");
    const path = await request(`${server.url}/api/v2/things`);
    expect(path.status).toBe(404);
    expect((path.json() as { error: { code: string } }).error.code).toBe("not_found");

    const getCommand = await request(`${server.url}/api/v1/canaries/shop/checkout/pause`);
    expect(getCommand.status).toBe(405);
    expect(getCommand.headers.allow).toBe("POST");
    const postList = await request(`${server.url}/api/v1/canaries`, {
      method: "POST",
      headers: authed,
      body: "{}",
    });
    expect(postList.status).toBe(405);
    expect(postList.headers.allow).toBe("GET");
    const deleteMetrics = await request(`${server.url}/metrics`, { method: "DELETE" });
    expect(deleteMetrics.status).toBe(405);
  });

  it("serves the dashboard page and its assets with a strict CSP", async () => {
    const page = await request(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toContain('<script type="module" src="/dashboard.js">');
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    const js = await request(`${server.url}/dashboard.js`);
    expect(js.status).toBe(200);
    expect(js.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(js.body).toContain("EventSource");
    const css = await request(`${server.url}/dashboard.css`);
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
    // The entry module's imports are served the same way; nothing outside the folder's assets is.
    const mod = await request(`${server.url}/chart.js`);
    expect(mod.status).toBe(200);
    expect(mod.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(mod.body).toContain("export function chart(");
    expect((await request(`${server.url}/nothing-here.js`)).status).toBe(404);
    expect((await request(`${server.url}/index.html`)).status).toBe(404);
    expect((await request(`${server.url}/..%2fserver.js`)).status).toBe(404);
  });

  it("serves /healthz and /metrics", async () => {
    expect((await request(`${server.url}/healthz`)).status).toBe(200);
    const m = await request(`${server.url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers["content-type"]).toMatch(/^text\/plain/);
    expect(m.body).toContain('meshcanary_canary_weight_percent{namespace="shop",name="checkout"} 25');
  });

  it("answers 500 without details when the backend throws", async () => {
    const original = backend.command;
    backend.command = async () => {
      throw new Error("kube API down: secret detail");
    };
    try {
      const r = await write("/api/v1/canaries/shop/checkout/promote", authed);
      expect(r.status).toBe(500);
      expect(r.json()).toEqual({ error: { code: "internal", message: "internal error" } });
    } finally {
      backend.command = original;
    }
    expect(errors.map((e) => (e as Error).message)).toEqual(["kube API down: secret detail"]);
  });

  it("/readyz follows backend.ready()", async () => {
    expect((await request(`${server.url}/readyz`)).status).toBe(200);
    backend.isReady = false;
    expect((await request(`${server.url}/readyz`)).status).toBe(503);
    backend.isReady = true;
    expect((await request(`${server.url}/readyz`)).status).toBe(200);
  });

  it("streams backend events over SSE with heartbeats", async () => {
    const sse = await openSse(`${server.url}/api/v1/events`);
    try {
      expect(sse.status).toBe(200);
      backend.appendPoint("shop", "checkout", samplePoint(T0 + 9000, 9));
      await sse.until(() => sse.events.length >= 1);
      expect(sse.events[0]).toMatchObject({
        type: "series",
        namespace: "shop",
        name: "checkout",
        point: { t: T0 + 9000 },
      });
      await sse.until(() => sse.comments.includes("heartbeat"));
    } finally {
      sse.close();
    }
  });

  it("bounds SSE clients and frees a slot when a client disconnects", async () => {
    const a = await openSse(`${server.url}/api/v1/events`);
    const b = await openSse(`${server.url}/api/v1/events`);
    const c = await request(`${server.url}/api/v1/events`);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 503]);
    a.close();
    // The server notices the disconnect asynchronously; retry a bounded number of times.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const d = await openSse(`${server.url}/api/v1/events`);
      status = d.status;
      if (status === 200) d.close();
      else await new Promise((r) => setTimeout(r, 20));
    }
    b.close();
    expect(status).toBe(200);
  });
});

describe("API server without a write token", () => {
  const backend = makeBackend();
  let server: ApiServer;
  beforeAll(async () => {
    server = await startApiServer({ port: 0, backend, metricsRegistry: registryFor(backend) });
  });
  afterAll(async () => {
    await server.close();
  });

  it("is read-only: every write is 403, whatever the token", async () => {
    for (const auth of [undefined, "Bearer anything", `Bearer ${TOKEN}`]) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (auth) headers.authorization = auth;
      const r = await request(`${server.url}/api/v1/canaries/shop/checkout/promote`, {
        method: "POST",
        headers,
        body: "{}",
      });
      expect(r.status).toBe(403);
      expect((r.json() as { error: { message: string } }).error.message).toContain("writes are disabled");
    }
    expect(backend.commands).toHaveLength(0);
    expect((await request(`${server.url}/api/v1/canaries`)).status).toBe(200);
  });

  it("refuses an empty write token at startup", async () => {
    await expect(
      startApiServer({ port: 0, backend, writeToken: " ", metricsRegistry: registryFor(backend) }),
    ).rejects.toThrow(/writeToken/);
  });

  it("unsubscribes from the backend on close", async () => {
    const other = new FakeBackend();
    const s = await startApiServer({ port: 0, backend: other, metricsRegistry: registryFor(other) });
    expect(other.listenerCount).toBe(1);
    await s.close();
    expect(other.listenerCount).toBe(0);
  });
});
