/**
 * The embedded Kubernetes API server: an HTTP shell around the object store that speaks enough of
 * the Kubernetes API for @kubernetes/client-node and kubectl (discovery, CRUD, patch, status,
 * watch), with bearer-token auth, optional persistence and fault injection.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { accessModel, forbidden, requestUser, tokenRequest } from "./access.js";
import { ADMIN_USER } from "./auth.js";
import { coreVersions, group, groupList, resourceList, versionInfo } from "./discovery.js";
import { FaultInjector } from "./faults.js";
import {
  handleCollection,
  handleObject,
  handleReview,
  presenter,
  type Reply,
  type Request,
  selectorOf,
} from "./handlers.js";
import { renderKubeconfig } from "./kubeconfig.js";
import { requestAttributes } from "./request-info.js";
import { loadSnapshot, saveSnapshot } from "./persistence.js";
import { route } from "./routes.js";
import { proxyToService, type ServiceEndpoint, serviceProxyTarget } from "./service-proxy.js";
import { failure } from "./status.js";
import { ObjectStore, type Target } from "./store.js";
import { startWatch, type WatchSession } from "./watch.js";

/** Options of startKubeApi. */
export interface KubeApiOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Listen address; only loopback is supported. */
  host?: "127.0.0.1";
  /** Persist the store as JSON in this directory (loaded at start, rewritten on each change). */
  dataDir?: string;
  /** Fault injection hooks; one is created when omitted (reachable as server.faults). */
  faults?: FaultInjector;
  /** Bearer token clients must send; random when omitted (kubeconfig() carries it). */
  token?: string;
  /** Changes kept for watch resume before older resourceVersions get 410 Gone; default 1000. */
  historyLimit?: number;
  /** Interval of BOOKMARK events on watches that allow them; default 10000 ms. */
  bookmarkIntervalMs?: number;
  /** Where Services' endpoints listen, for the services/proxy subresource (service-proxy.ts). */
  serviceEndpoint?: ServiceEndpoint;
}

/** A running embedded API server. */
export interface KubeApiServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  /** Bearer token clients must present. */
  token: string;
  /** YAML kubeconfig for this server (context "meshcanary-sandbox"), with the admin token unless another is given. */
  kubeconfig(token?: string): string;
  writeKubeconfig(path: string): void;
  /** Direct access to the objects, for tests. */
  store: ObjectStore;
  faults: FaultInjector;
  /** Requests received per "METHOD path" (watches as "GET path?watch"; other query parameters dropped), for tests. */
  requestCounts: Map<string, number>;
  /** Ends watches, closes connections and stops listening. */
  close(): Promise<void>;
}

const OPEN_PATHS = new Set(["/healthz", "/livez", "/readyz", "/version"]);

function send(res: ServerResponse, r: Reply): void {
  if (typeof r.body === "string") {
    res.writeHead(r.status, { "Content-Type": "text/plain; charset=utf-8" });
    res.end(r.body);
    return;
  }
  res.writeHead(r.status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(r.body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function isWatch(query: URLSearchParams): boolean {
  const w = query.get("watch");
  return w === "1" || w === "true";
}

/** Starts the server; rejects if the data directory holds an unreadable snapshot or the port is taken. */
export async function startKubeApi(opts: KubeApiOptions = {}): Promise<KubeApiServer> {
  const host = opts.host ?? "127.0.0.1";
  const token = opts.token ?? randomBytes(16).toString("hex");
  const faults = opts.faults ?? new FaultInjector();
  const bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 10_000;
  const snapshot = opts.dataDir ? loadSnapshot(opts.dataDir) : undefined;
  if (typeof snapshot === "string") throw new Error(`kube-api dataDir: ${snapshot}`);
  const dataDir = opts.dataDir;
  const store: ObjectStore = new ObjectStore(
    {
      historyLimit: opts.historyLimit,
      onChange: dataDir ? () => saveSnapshot(dataDir, store.snapshot()) : undefined,
    },
    snapshot,
  );
  if (dataDir && !snapshot) saveSnapshot(dataDir, store.snapshot());
  const detachExpirer = faults.attachExpirer(() => store.changes.expire());
  const watches = new Set<WatchSession>();
  const requestCounts = new Map<string, number>();
  let address = "";

  const dispatch = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://sandbox");
    const method = (req.method ?? "GET").toUpperCase();
    const countKey = `${method} ${url.pathname}${isWatch(url.searchParams) ? "?watch" : ""}`;
    requestCounts.set(countKey, (requestCounts.get(countKey) ?? 0) + 1);
    // Health and version need no credentials (and are never reviews, the only handler that reads user).
    let user = ADMIN_USER;
    if (!OPEN_PATHS.has(url.pathname)) {
      const authenticated = requestUser(store, req.headers.authorization, token);
      if (!authenticated)
        return send(res, { status: 401, body: failure(401, "Unauthorized", "Unauthorized") });
      user = authenticated;
      const denied = forbidden(store, user, requestAttributes(method, url.pathname, url.searchParams));
      if (denied) return send(res, denied);
    }
    const fault = faults.take(method, url.pathname);
    if (fault?.kind === "fail") {
      const reason =
        fault.status === 409
          ? "Conflict"
          : fault.status === 503
            ? "ServiceUnavailable"
            : fault.status === 429
              ? "TooManyRequests"
              : "InternalError";
      return send(res, { status: fault.status, body: failure(fault.status, reason, fault.message) });
    }
    if (fault?.kind === "delay") await new Promise((r) => setTimeout(r, fault.delayMs));
    const proxied = serviceProxyTarget(url);
    if (proxied) {
      const refused = proxyToService(store, opts.serviceEndpoint, proxied, req, res);
      return refused ? send(res, refused) : undefined;
    }
    const body = await readBody(req);
    const request: Request = {
      method,
      query: url.searchParams,
      contentType: (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase(),
      body,
    };
    if (request.query.has("dryRun")) {
      return send(res, {
        status: 400,
        body: failure(400, "BadRequest", "dryRun is not supported by the meshcanary sandbox API"),
      });
    }
    const r = route(store.registry, url.pathname);
    switch (r.kind) {
      case "health":
        return send(res, { status: 200, body: "ok" });
      case "version":
        return send(res, { status: 200, body: versionInfo() });
      case "openapi":
        return send(res, {
          status: 200,
          body: {
            swagger: "2.0",
            info: { title: "meshcanary sandbox", version: "v1" },
            paths: {},
            definitions: {},
          },
        });
      case "coreVersions":
        return send(res, { status: 200, body: coreVersions(address) });
      case "groupList":
        return send(res, { status: 200, body: groupList(store.registry) });
      case "group":
      case "resourceList": {
        const doc =
          r.kind === "group"
            ? group(store.registry, r.group)
            : resourceList(store.registry, r.group, r.version);
        if (doc) return send(res, { status: 200, body: doc });
        return send(res, {
          status: 404,
          body: failure(404, "NotFound", "the server could not find the requested resource"),
        });
      }
      case "review":
        return send(
          res,
          handleReview(r.plural, r.group, r.version, request, accessModel(store, token, user)),
        );
      case "collection": {
        if (method === "GET" && isWatch(request.query)) return watch(r.target, request, res);
        return send(res, handleCollection(store, r.target, request));
      }
      case "token":
        return send(res, tokenRequest(store, token, r.namespace, r.name, method, body));
      case "object":
        return send(res, handleObject(store, r.target, r.name, request, r.subresource === "status"));
      case "unknown":
        return send(res, { status: 404, body: failure(404, "NotFound", r.message) });
    }
  };

  const watch = (target: Target, request: Request, res: ServerResponse): void => {
    const selector = selectorOf(request.query);
    if (typeof selector !== "function") {
      send(res, { status: 400, body: selector });
      return;
    }
    const rv = request.query.get("resourceVersion") ?? undefined;
    if (rv !== undefined && rv !== "" && !/^[0-9]+$/.test(rv)) {
      send(res, {
        status: 400,
        body: failure(400, "BadRequest", `resourceVersion: Invalid value: ${JSON.stringify(rv)}`),
      });
      return;
    }
    const timeout = request.query.get("timeoutSeconds");
    const session = startWatch(
      store,
      {
        target,
        selector,
        resourceVersion: rv,
        allowBookmarks: request.query.get("allowWatchBookmarks") === "true",
        timeoutSeconds: timeout === null ? undefined : Number(timeout),
        bookmarkIntervalMs,
        present: presenter(target),
      },
      res,
    );
    watches.add(session);
    res.on("close", () => watches.delete(session));
  };

  const server = createServer((req, res) => {
    dispatch(req, res).catch((e: unknown) => {
      if (!res.headersSent)
        send(res, { status: 500, body: failure(500, "InternalError", (e as Error).message) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  address = `${host}:${port}`;
  const url = `http://${address}`;

  return {
    url,
    port,
    token,
    kubeconfig: (as?: string) => renderKubeconfig(url, as ?? token),
    writeKubeconfig: (path: string) => writeFileSync(path, renderKubeconfig(url, token), { mode: 0o600 }),
    store,
    faults,
    requestCounts,
    close: async () => {
      detachExpirer();
      for (const w of [...watches]) w.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
