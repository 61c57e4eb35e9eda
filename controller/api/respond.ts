/** Writing responses and reading bounded request bodies on node:http. */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Error codes of the JSON error body `{error: {code, message}}`. */
export type ErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "unprocessable"
  | "internal"
  | "unavailable";

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "unprocessable",
  500: "internal",
  503: "unavailable",
};

/** An HTTP error as a value: handlers return it, the router writes it. */
export interface HttpError {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

export function httpError(status: number, message: string, headers?: Record<string, string>): HttpError {
  return headers ? { status, message, headers } : { status, message };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

export function sendError(res: ServerResponse, e: HttpError): void {
  for (const [k, v] of Object.entries(e.headers ?? {})) res.setHeader(k, v);
  sendJson(res, e.status, { error: { code: CODE_BY_STATUS[e.status] ?? "internal", message: e.message } });
}

/** The request body, or 413 once it exceeds maxBytes (the rest is not read). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | HttpError> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) {
    return Promise.resolve(httpError(413, `request body of ${declared} bytes exceeds ${maxBytes} bytes`));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (v: Buffer | HttpError) => {
      if (done) return;
      done = true;
      resolve(v);
    };
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners("data");
        req.resume();
        finish(httpError(413, `request body exceeds ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => finish(Buffer.concat(chunks)));
    req.on("error", (err) => finish(httpError(400, `request body: ${err.message}`)));
  });
}
