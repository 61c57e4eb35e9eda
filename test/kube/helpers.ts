/** Test helpers for controller/kube: raw HTTP setup against the embedded API, and a bounded wait. */
import type { KubeApiServer } from "../../sandbox/kube-api/index.js";

/** Sends one JSON request to the embedded API server and returns status and body. */
export async function kubeRequest(
  server: KubeApiServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Like kubeRequest, but throws unless the status is 2xx. */
export async function mustRequest(
  server: KubeApiServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const r = await kubeRequest(server, method, path, body);
  if (r.status < 200 || r.status > 299)
    throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Resolves when cond() holds; rejects after limitMs naming what was awaited (a bound, not a timing check). */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  limitMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export { CANARY_CRD } from "../kube-api/helpers.js";
