/**
 * Who may change a rollout: a bearer token compared in constant time, plus CSRF defences so a page
 * on another site cannot make a logged-in browser send a write (JSON content type, same Origin).
 * The token is only ever read from the Authorization header, never from a query string or cookie.
 */
import type { IncomingHttpHeaders } from "node:http";
import { tokenMatches } from "../security/token-match.js";
import { type HttpError, httpError } from "./respond.js";

/** The origins this server is reached at, given the Host header. */
function ownOrigins(host: string | undefined): string[] {
  return host ? [`http://${host}`, `https://${host}`] : [];
}

/** undefined when the write may proceed, else the error to send. */
export function checkWrite(
  headers: IncomingHttpHeaders,
  writeToken: string | undefined,
): HttpError | undefined {
  if (writeToken === undefined) {
    return httpError(403, "writes are disabled: the controller was started without an API write token");
  }
  const type = (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    return httpError(415, `content-type must be application/json, got ${JSON.stringify(type)}`);
  }
  const origin = headers.origin;
  if (origin !== undefined && !ownOrigins(headers.host).includes(origin)) {
    return httpError(403, `origin ${JSON.stringify(origin)} is not this server's origin`);
  }
  const auth = headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  if (!match) {
    return httpError(401, "missing Authorization: Bearer <token> header", { "www-authenticate": "Bearer" });
  }
  if (!tokenMatches(match[1]!, writeToken)) {
    return httpError(401, "invalid bearer token", { "www-authenticate": 'Bearer error="invalid_token"' });
  }
  return undefined;
}
