/**
 * The controller's HTTP port: JSON API, live event stream, dashboard, /metrics, /healthz, /readyz.
 * Plain node:http; each route is a small handler that returns data or an HttpError value.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { type Asset, loadDashboard } from "./dashboard-assets.js";
import { EventStream } from "./event-stream.js";
import { type HttpError, httpError, readBody, sendError, sendJson } from "./respond.js";
import { type ApiAccess, type ApiCaller, type CanaryVerb, sharedTokenAccess } from "./access.js";
import { type ApiBackend, type ApiCommand, type ApiEvent, COMMANDS } from "./types.js";
import { checkWrite } from "./write-guard.js";

export interface ApiServerOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Address to bind; default "127.0.0.1". */
  host?: string;
  backend: ApiBackend;
  /** Who may read and command (kube-access.ts for Kubernetes identities); default: sharedTokenAccess(writeToken). */
  access?: ApiAccess;
  /** Without `access`: the shared bearer token required for commands; undefined makes the API read-only. */
  writeToken?: string;
  metricsRegistry: Registry;
  /** Largest accepted request body, bytes; default 16 KiB. */
  maxBodyBytes?: number;
  /** SSE heartbeat interval, ms; default 15 s. */
  heartbeatMs?: number;
  /** Most concurrent SSE clients; default 100. */
  maxEventClients?: number;
  /** Most concurrent SSE clients from one address; default 10. */
  maxEventClientsPerPeer?: number;
  /** Dashboard folder; default controller/api/dashboard next to this module. */
  dashboardDir?: URL;
  /** Called with unexpected handler errors (the client gets a generic 500). */
  onError?: (err: unknown) => void;
  /** Slow-client bounds (slowloris); defaults: headers 10 s, whole request 30 s, checked every 5 s. */
  timeouts?: { headersMs?: number; requestMs?: number; checkIntervalMs?: number };
}

export interface ApiServer {
  port: number;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
}

/** Default look-back of the series endpoint when `since` is absent. */
const DEFAULT_SERIES_MS = 5 * 60 * 1000;

/** Security headers for the dashboard: no inline script, nothing loaded from elsewhere. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

interface Context {
  opts: ApiServerOptions;
  access: ApiAccess;
  events: EventStream;
  assets: Map<string, Asset>;
}

type Handler = (ctx: Context, req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void>;

interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
}

const SEGMENT = "([^/]+)";

const ROUTES: Route[] = [
  { pattern: /^\/api\/v1\/canaries$/, methods: { GET: listCanaries } },
  { pattern: new RegExp(`^/api/v1/canaries/${SEGMENT}/${SEGMENT}$`), methods: { GET: getCanary } },
  { pattern: new RegExp(`^/api/v1/canaries/${SEGMENT}/${SEGMENT}/series$`), methods: { GET: getSeries } },
  {
    pattern: new RegExp(`^/api/v1/canaries/${SEGMENT}/${SEGMENT}/${SEGMENT}$`),
    methods: { POST: postCommand },
  },
  { pattern: /^\/api\/v1\/events$/, methods: { GET: streamEvents } },
  { pattern: /^\/api\/v1\/whoami$/, methods: { GET: whoami } },
  { pattern: /^\/metrics$/, methods: { GET: metrics } },
  { pattern: /^\/healthz$/, methods: { GET: healthz } },
  { pattern: /^\/readyz$/, methods: { GET: readyz } },
  { pattern: /^\/(?:[a-z][a-z0-9-]*\.(?:js|css))?$/, methods: { GET: asset } },
];

/** The request's caller if they may `verb` ns/name, else undefined after sending the error. */
async function allowed(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  verb: CanaryVerb,
  ns: string,
  name: string,
): Promise<ApiCaller | undefined> {
  const caller = await ctx.access.caller(req.headers);
  if ("status" in caller) return void sendError(res, caller);
  const may = await caller.may(verb, ns, name);
  if (may !== true) return void sendError(res, may);
  return caller;
}

/** A filter passing the canaries `caller` may read (all of them when it may list every one). */
async function readable(caller: ApiCaller): Promise<(ns: string, name: string) => Promise<boolean>> {
  if (await caller.mayListAll()) return async () => true;
  return async (ns, name) => (await caller.may("get", ns, name)) === true;
}

async function listCanaries(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const caller = await ctx.access.caller(req.headers);
  if ("status" in caller) return sendError(res, caller);
  const may = await readable(caller);
  const all = ctx.opts.backend.listCanaries();
  const visible = await Promise.all(all.map((c) => may(c.namespace, c.name)));
  sendJson(res, 200, { canaries: all.filter((_, i) => visible[i]) });
}

async function getCanary(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  p: string[],
): Promise<void> {
  const [ns, name] = p as [string, string];
  if (!(await allowed(ctx, req, res, "get", ns, name))) return;
  const detail = ctx.opts.backend.getCanary(ns, name);
  if (!detail) return sendError(res, notFound(ns, name));
  sendJson(res, 200, detail);
}

async function getSeries(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  p: string[],
): Promise<void> {
  const [ns, name] = p as [string, string];
  if (!(await allowed(ctx, req, res, "get", ns, name))) return;
  const since = parseSince(new URL(req.url ?? "/", "http://x").searchParams.get("since"));
  if (typeof since !== "number") return sendError(res, since);
  if (!ctx.opts.backend.getCanary(ns, name)) return sendError(res, notFound(ns, name));
  sendJson(res, 200, { points: ctx.opts.backend.series(ns, name, since) });
}

async function postCommand(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  p: string[],
): Promise<void> {
  const [ns, name, command] = p as [string, string, string];
  if (!(COMMANDS as readonly string[]).includes(command)) {
    return sendError(
      res,
      httpError(404, `unknown command ${JSON.stringify(command)}; one of ${COMMANDS.join(", ")}`),
    );
  }
  const denied = checkWrite(req.headers);
  if (denied) return sendError(res, denied);
  const caller = await allowed(ctx, req, res, "patch", ns, name);
  if (!caller) return;
  const body = await readBody(req, ctx.opts.maxBodyBytes ?? 16 * 1024);
  if (!Buffer.isBuffer(body)) return sendError(res, body);
  const parsed = parseJsonObject(body);
  if (parsed) return sendError(res, parsed);
  const result = await ctx.opts.backend.command(ns, name, command as ApiCommand, caller.user);
  if (!result.ok) return sendError(res, httpError(result.status, result.message));
  sendJson(res, 200, { ok: true, namespace: ns, name, command });
}

/** Who the request's credentials say the caller is (the dashboard enables actions for a signed-in user). */
async function whoami(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const caller = await ctx.access.caller(req.headers);
  if ("status" in caller) return sendError(res, caller);
  sendJson(res, 200, { user: caller.user, authenticated: caller.authenticated });
}

async function streamEvents(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const peer = req.socket.remoteAddress ?? "unknown";
  const refused = ctx.events.refusal(peer);
  if (refused) return sendError(res, httpError(refused.status, refused.message));
  const caller = await ctx.access.caller(req.headers);
  if ("status" in caller) return sendError(res, caller);
  // A caller who may list every Canary gets the stream unfiltered (no per-event checks).
  if (await caller.mayListAll()) return ctx.events.attach(res, peer);
  const may = await readable(caller);
  ctx.events.attach(res, peer, (e) => may(...canaryOf(e)));
}

async function metrics(ctx: Context, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const text = await ctx.opts.metricsRegistry.metrics();
  res.writeHead(200, { "content-type": ctx.opts.metricsRegistry.contentType });
  res.end(text);
}

async function healthz(_ctx: Context, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  res.end("ok\n");
}

async function readyz(ctx: Context, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const ready = ctx.opts.backend.ready();
  res.writeHead(ready ? 200 : 503, { "content-type": "text/plain; charset=utf-8" });
  res.end(ready ? "ready\n" : "not ready\n");
}

async function asset(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const pathname = new URL(req.url ?? "/", "http://x").pathname;
  const a = ctx.assets.get(pathname);
  if (!a) return sendError(res, httpError(404, `no route for ${pathname}`));
  res.writeHead(200, { ...PAGE_HEADERS, "content-type": a.contentType, "cache-control": "no-cache" });
  res.end(a.body);
}

/** The canary an event is about. */
function canaryOf(e: ApiEvent): [string, string] {
  return e.type === "canary" ? [e.canary.namespace, e.canary.name] : [e.namespace, e.name];
}

function notFound(ns: string, name: string): HttpError {
  return httpError(404, `canary ${ns}/${name} not found`);
}

/** `since` query parameter: Unix ms; absent means the last 5 minutes. */
function parseSince(raw: string | null): number | HttpError {
  if (raw === null) return Date.now() - DEFAULT_SERIES_MS;
  if (!/^\d{1,16}$/.test(raw))
    return httpError(400, `since: expected Unix milliseconds, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Commands take no parameters: the body is empty or a JSON object. */
function parseJsonObject(body: Buffer): HttpError | undefined {
  if (body.length === 0) return undefined;
  try {
    const v: unknown = JSON.parse(body.toString("utf8"));
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return undefined;
    return httpError(400, "body: expected a JSON object");
  } catch (err) {
    return httpError(400, `body: invalid JSON (${(err as Error).message})`);
  }
}

/** The route for a path and its decoded parameters, or the error to send. */
function match(method: string, pathname: string): { handler: Handler; params: string[] } | HttpError {
  for (const route of ROUTES) {
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    const handler = route.methods[method];
    if (!handler) {
      const allow = Object.keys(route.methods).join(", ");
      return httpError(405, `method ${method} not allowed on ${pathname}; allowed: ${allow}`, { allow });
    }
    try {
      return { handler, params: m.slice(1).map((s) => decodeURIComponent(s)) };
    } catch {
      return httpError(400, `path ${pathname}: invalid percent-encoding`);
    }
  }
  return httpError(404, `no route for ${pathname}`);
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const pathname = new URL(req.url ?? "/", "http://x").pathname;
  const found = match(req.method ?? "GET", pathname);
  if ("status" in found) return sendError(res, found);
  try {
    await found.handler(ctx, req, res, found.params);
  } catch (err) {
    ctx.opts.onError?.(err);
    if (!res.headersSent) sendError(res, httpError(500, "internal error"));
    else res.destroy();
  }
}

/** Starts the API server; rejects when the dashboard files cannot be read or the port is taken. */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  if (opts.writeToken !== undefined && opts.writeToken.trim() === "") {
    throw new Error('writeToken: must not be empty (got ""); leave it unset for a read-only API');
  }
  const assets = await loadDashboard(opts.dashboardDir);
  if (assets instanceof Error) throw assets;
  const events = new EventStream({
    heartbeatMs: opts.heartbeatMs ?? 15_000,
    maxClients: opts.maxEventClients ?? 100,
    maxClientsPerPeer: opts.maxEventClientsPerPeer ?? 10,
    maxBufferedBytes: 1024 * 1024,
    // Two heartbeats: a reading client drains a write long before.
    stallMs: 2 * (opts.heartbeatMs ?? 15_000),
  });
  const unsubscribe = opts.backend.subscribe((e) => events.publish(e));
  const ctx: Context = { opts, access: opts.access ?? sharedTokenAccess(opts.writeToken), events, assets };
  // Node checks these timeouts only every connectionsCheckingInterval (30 s by default).
  const server = createServer(
    { connectionsCheckingInterval: opts.timeouts?.checkIntervalMs ?? 5_000 },
    (req, res) => void handle(ctx, req, res),
  );
  server.headersTimeout = opts.timeouts?.headersMs ?? 10_000;
  server.requestTimeout = opts.timeouts?.requestMs ?? 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? "127.0.0.1";
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    port,
    url: `http://${urlHost}:${port}`,
    close: async () => {
      unsubscribe();
      events.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
