/**
 * The service proxy subresource, GET/POST …/namespaces/<ns>/services/<name>[:<port>]/proxy/<path>,
 * as kube-apiserver serves it: the caller is authenticated and authorised (get or create on
 * services/proxy) like any request first; the request then goes to the Service's endpoint without
 * the caller's Authorization header (kube-apiserver consumes it) or impersonation headers, and the
 * answer streams back. The sandbox has no pods, so where a Service's endpoint listens is given by
 * the server's `serviceEndpoint` option; a Service without one answers 503 as one without ready
 * endpoints does.
 */
import { type IncomingMessage, request, type ServerResponse } from "node:http";
import type { Reply } from "./handlers.js";
import { failure } from "./status.js";
import type { ObjectStore } from "./store.js";

/** Where a Service's endpoint listens, or undefined when it has none. */
export type ServiceEndpoint = (
  namespace: string,
  name: string,
  port: string | undefined,
) => { host: string; port: number } | undefined;

/** A parsed service proxy path. */
export interface ServiceProxyTarget {
  namespace: string;
  name: string;
  port?: string;
  /** Path (with its leading slash) and query to send to the endpoint. */
  path: string;
}

const PROXY_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)\/proxy(\/.*)?$/;

/** The target of a service proxy URL, or undefined for any other path. */
export function serviceProxyTarget(url: URL): ServiceProxyTarget | undefined {
  const m = PROXY_PATH.exec(url.pathname);
  if (!m) return undefined;
  // "<name>", "<name>:<port>" or "<scheme>:<name>:<port>"; only plain HTTP is proxied here.
  const parts = decodeURIComponent(m[2]!).split(":");
  const [name, port] = parts.length === 3 ? [parts[1]!, parts[2]] : [parts[0]!, parts[1]];
  return {
    namespace: decodeURIComponent(m[1]!),
    name,
    ...(port ? { port } : {}),
    path: `${m[3] ?? "/"}${url.search}`,
  };
}

/** Headers never passed to the endpoint: the caller's credentials and impersonation. */
function forwardedHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k === "authorization" || k.startsWith("impersonate-")) continue;
    if (k === "connection" || k === "keep-alive" || k === "upgrade") continue;
    out[k] = v;
  }
  return out;
}

/** Proxies `req` to the Service endpoint; returns the error reply instead when there is none. */
export function proxyToService(
  store: ObjectStore,
  endpointOf: ServiceEndpoint | undefined,
  target: ServiceProxyTarget,
  req: IncomingMessage,
  res: ServerResponse,
): Reply | undefined {
  const type = store.registry.find("", "v1", "services");
  const service = type && store.get({ type, version: "v1", namespace: target.namespace }, target.name);
  if (!service?.ok) {
    return {
      status: 404,
      body: failure(404, "NotFound", `services "${target.name}" not found`, {
        name: target.name,
        kind: "services",
      }),
    };
  }
  const endpoint = endpointOf?.(target.namespace, target.name, target.port);
  if (!endpoint) {
    return {
      status: 503,
      body: failure(503, "ServiceUnavailable", `no endpoints available for service "${target.name}"`),
    };
  }
  const upstream = request({
    host: endpoint.host,
    port: endpoint.port,
    method: req.method,
    path: target.path,
    headers: { ...forwardedHeaders(req), host: `${endpoint.host}:${endpoint.port}` },
  });
  upstream.on("response", (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.on("error", (e) => {
    if (!res.headersSent) {
      res.writeHead(503, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify(failure(503, "ServiceUnavailable", `error trying to reach service: ${e.message}`)),
      );
    } else res.destroy();
  });
  res.on("close", () => upstream.destroy());
  req.pipe(upstream);
  return undefined;
}
