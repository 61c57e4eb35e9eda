/**
 * Requests to a Service through the Kubernetes API server's service proxy
 * (/api/v1/namespaces/<ns>/services/<name>:<port>/proxy/<path>), with the kubeconfig user's own
 * credentials: the API server authenticates them and checks `get`/`create` on services/proxy, so
 * nothing has to be exposed outside the cluster. The API server consumes the Authorization header;
 * the same bearer token also travels as X-Meshcanary-Authorization, for the meshcanary API to
 * authenticate the user again (TokenReview) and authorise each action on a Canary.
 */
import { type ClientRequest, type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

/** The Service a proxy reaches. */
export interface ServiceRef {
  namespace: string;
  name: string;
  /** Service port (number or name). */
  port: string;
}

/** Header carrying the user's bearer token past the API server (which consumes Authorization). */
export const FORWARDED_AUTHORIZATION = "x-meshcanary-authorization";

/** The API server path of `path` (with query) on the Service. */
export function serviceProxyPath(service: ServiceRef, path: string): string {
  const ref = encodeURIComponent(`${service.name}:${service.port}`);
  return `/api/v1/namespaces/${encodeURIComponent(service.namespace)}/services/${ref}/proxy${path}`;
}

/** The kubeconfig user's request options (TLS, headers) and bearer Authorization, or why there is none. */
async function userCredentials(
  kc: KubeConfig,
): Promise<{ opts: RequestOptions; authorization: string } | { error: string }> {
  const opts: RequestOptions = { headers: {} };
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (e) {
    return { error: `kubeconfig credentials: ${(e as Error).message}` };
  }
  const own = opts.headers as Record<string, string>;
  const authorization = own.Authorization ?? own.authorization;
  if (!authorization?.startsWith("Bearer ")) {
    const user = kc.getCurrentUser()?.name ?? "(none)";
    return {
      error: `kubeconfig user ${JSON.stringify(user)} has no bearer token (client certificates identify you to the API server only); use a token, e.g. an exec credential plugin or \`kubectl create token\``,
    };
  }
  return { opts, authorization };
}

/**
 * Starts `method path` to `base` (e.g. a `kubectl port-forward` address) directly, with the
 * kubeconfig user's bearer token as Authorization; the caller writes the body and ends it.
 */
export async function directRequest(
  kc: KubeConfig,
  base: URL,
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  onResponse: (res: IncomingMessage) => void,
): Promise<ClientRequest | { error: string }> {
  const creds = await userCredentials(kc);
  if ("error" in creds) return creds;
  const request = base.protocol === "https:" ? httpsRequest : httpRequest;
  return request(
    base.origin + base.pathname.replace(/\/$/, "") + path,
    { method, headers: { ...headers, authorization: creds.authorization } },
    onResponse,
  );
}

/**
 * Starts `method path` to the Service with the user's credentials and `headers`; the caller writes
 * the body and ends it. Fails when the kubeconfig user has no bearer token (client certificates
 * authenticate to the API server only, so the meshcanary API could not tell who the user is).
 */
export async function serviceProxyRequest(
  kc: KubeConfig,
  service: ServiceRef,
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  onResponse: (res: IncomingMessage) => void,
): Promise<ClientRequest | { error: string }> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) return { error: "kubeconfig: no current cluster" };
  const server = new URL(cluster.server);
  const creds = await userCredentials(kc);
  if ("error" in creds) return creds;
  const { opts, authorization } = creds;
  const own = opts.headers as Record<string, string>;
  const request = server.protocol === "https:" ? httpsRequest : httpRequest;
  const basePath = server.pathname.replace(/\/$/, "");
  return request(
    {
      ...opts,
      protocol: server.protocol,
      hostname: server.hostname,
      port: server.port || (server.protocol === "https:" ? 443 : 80),
      method,
      path: basePath + serviceProxyPath(service, path),
      headers: { ...headers, ...own, [FORWARDED_AUTHORIZATION]: authorization },
    },
    onResponse,
  );
}
