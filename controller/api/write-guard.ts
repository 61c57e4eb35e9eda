/**
 * CSRF defences for commands, so a page on another site cannot make a browser (or a local
 * `meshcanary dashboard` proxy that adds the user's credentials) send a write: the body must be
 * JSON (a cross-site form cannot send that type without a CORS preflight, which this server never
 * approves) and an Origin, when sent, must be this server's own. Who may write is access.ts's job.
 */
import type { IncomingHttpHeaders } from "node:http";
import { type HttpError, httpError } from "./respond.js";

/** The origins this server is reached at, given the Host header. */
function ownOrigins(host: string | undefined): string[] {
  return host ? [`http://${host}`, `https://${host}`] : [];
}

/** undefined when the write may proceed, else the error to send. */
export function checkWrite(headers: IncomingHttpHeaders): HttpError | undefined {
  const type = (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    return httpError(415, `content-type must be application/json, got ${JSON.stringify(type)}`);
  }
  const origin = headers.origin;
  if (origin !== undefined && !ownOrigins(headers.host).includes(origin)) {
    return httpError(403, `origin ${JSON.stringify(origin)} is not this server's origin`);
  }
  return undefined;
}
