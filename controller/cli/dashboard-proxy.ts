/**
 * The local end of `meshcanary dashboard`: an HTTP server on loopback that passes every request to
 * the controller's HTTP port through the API server's service proxy, adding the user's kubeconfig
 * credentials (controller/kube/service-proxy.ts). Because it adds credentials, it also guards them:
 * only requests addressed to itself (Host is its own loopback address, against DNS rebinding) and,
 * for anything but GET/HEAD, from its own page (Origin) are passed on; the browser's Origin and
 * Cookie never reach the controller.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeConfig } from "@kubernetes/client-node";
import { directRequest, type ServiceRef, serviceProxyRequest } from "../kube/service-proxy.js";

export interface DashboardProxyOptions {
  kc: KubeConfig;
  /** The controller's Service, reached through the API server's service proxy... */
  service: ServiceRef;
  /** ...or, when set, this base URL directly (e.g. a `kubectl port-forward` to the controller). */
  direct?: URL;
  /** Local port; 0 picks a free one. */
  port: number;
}

export interface DashboardProxy {
  /** e.g. http://127.0.0.1:8001/ */
  url: string;
  close(): Promise<void>;
}

/** Request headers passed on: everything but hop-by-hop ones, credentials and browser context. */
const DROPPED = new Set([
  "host",
  "connection",
  "keep-alive",
  "upgrade",
  "authorization",
  "x-meshcanary-authorization",
  "cookie",
  "origin",
  "referer",
]);

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { code: "forbidden", message } }));
}

/** Why the request may not borrow the user's credentials, or undefined when it may. */
function refusal(req: IncomingMessage, self: string[]): string | undefined {
  const host = req.headers.host ?? "";
  if (!self.includes(host)) return `host ${JSON.stringify(host)} is not this proxy (${self[0]})`;
  const origin = req.headers.origin;
  const safe = req.method === "GET" || req.method === "HEAD";
  if (!safe && origin !== undefined && !self.some((h) => origin === `http://${h}`)) {
    return `origin ${JSON.stringify(origin)} is not this proxy`;
  }
  return undefined;
}

function forward(opts: DashboardProxyOptions, req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROPPED.has(k)) headers[k] = v;
  const onResponse = (up: IncomingMessage) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  };
  const method = req.method ?? "GET";
  const path = req.url ?? "/";
  const started = opts.direct
    ? directRequest(opts.kc, opts.direct, method, path, headers, onResponse)
    : serviceProxyRequest(opts.kc, opts.service, method, path, headers, onResponse);
  void started.then((upstream) => {
    if ("error" in upstream) {
      req.resume();
      return refuse(res, 502, upstream.error);
    }
    upstream.on("error", (e) => {
      if (!res.headersSent) refuse(res, 502, `Kubernetes API: ${e.message}`);
      else res.destroy();
    });
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
}

export async function startDashboardProxy(opts: DashboardProxyOptions): Promise<DashboardProxy> {
  let self: string[] = [];
  const server = createServer((req, res) => {
    const why = refusal(req, self);
    if (why) {
      req.resume();
      return refuse(res, 403, why);
    }
    forward(opts, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  self = [`127.0.0.1:${port}`, `localhost:${port}`];
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
