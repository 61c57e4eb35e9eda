/**
 * Who is calling the API and what they may do, behind one small interface with two answers:
 * Kubernetes (kube-access.ts: the caller's own bearer token, TokenReview, SubjectAccessReview per
 * Canary — the default) and a shared write token (reads open, commands need the token; for setups
 * that chose it explicitly, with no per-person identity).
 */
import type { IncomingHttpHeaders } from "node:http";
import { tokenMatches } from "../security/token-match.js";
import { type HttpError, httpError } from "./respond.js";

/** What a caller asks to do with a Canary: read it (`get`) or command it (`patch`), as kubectl would. */
export type CanaryVerb = "get" | "patch";

/** An authenticated (or, for shared-token reads, anonymous) caller. */
export interface ApiCaller {
  /** Name recorded with every command, e.g. "alice" or "system:serviceaccount:ci:deployer". */
  user: string;
  /** Whether credentials established who this is (false: an anonymous reader). */
  authenticated: boolean;
  /** true when the caller may `verb` canary namespace/name, else the error to send (403, 401, 503). */
  may(verb: CanaryVerb, namespace: string, name: string): Promise<true | HttpError>;
  /** Whether the caller may list every Canary at once (then per-canary checks can be skipped). */
  mayListAll(): Promise<boolean>;
}

export interface ApiAccess {
  /** The caller of a request, or the error to send (401: no or bad credentials, 503: cannot tell now). */
  caller(headers: IncomingHttpHeaders): Promise<ApiCaller | HttpError>;
}

/**
 * The bearer token of a request: `Authorization`, else `X-Meshcanary-Authorization` (which the
 * Kubernetes API server's service proxy passes on, while it consumes `Authorization` itself).
 */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  for (const name of ["authorization", "x-meshcanary-authorization"]) {
    const value = headers[name];
    const match = typeof value === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
    if (match) return match[1];
  }
  return undefined;
}

/** Shared-token access: anyone reads; a command needs the one write token (none: read-only API). */
export function sharedTokenAccess(writeToken: string | undefined): ApiAccess {
  return {
    async caller(headers) {
      const token = bearerToken(headers);
      const holder = token !== undefined && writeToken !== undefined && tokenMatches(token, writeToken);
      return {
        user: holder ? "api-token" : "anonymous",
        authenticated: holder,
        mayListAll: async () => true,
        async may(verb) {
          if (verb === "get" || holder) return true;
          if (writeToken === undefined) {
            return httpError(
              403,
              "writes are disabled: the controller was started without an API write token",
            );
          }
          if (token === undefined) {
            return httpError(401, "missing Authorization: Bearer <token> header", {
              "www-authenticate": "Bearer",
            });
          }
          return httpError(401, "invalid bearer token", {
            "www-authenticate": 'Bearer error="invalid_token"',
          });
        },
      };
    },
  };
}
