/**
 * One bounded POST to an endpoint named in a Canary spec, i.e. chosen by whoever may write Canaries:
 * the whole exchange (headers and body) is limited by the timeout, at most `excerptBytes` of the
 * answer are read (the rest is discarded unread), redirects are not followed (a 3xx is an answer,
 * with the origin it points to), and no message quotes the URL beyond its origin, because chat and
 * gate URLs carry secrets in their path, query or userinfo. Userinfo credentials go as Basic auth,
 * since fetch refuses URLs that carry them.
 */

/** What the endpoint answered. */
export interface PostAnswer {
  status: number;
  /** Origin a 3xx points to (absent or unparseable: "(no location)"). */
  redirectTo?: string;
  /** The start of the body as printable text, at most `excerptChars` characters. */
  excerpt: string;
}

export interface PostOptions {
  timeoutMs: number;
  /** Aborts the call (e.g. at shutdown). */
  signal?: AbortSignal;
  /** Body bytes read at most; default 2048. */
  excerptBytes?: number;
  /** Characters of the excerpt kept; default 200. */
  excerptChars?: number;
}

export type PostOutcome = { ok: true; answer: PostAnswer } | { ok: false; error: string };

export async function boundedPost(
  target: string,
  contentType: string,
  body: string,
  opts: PostOptions,
): Promise<PostOutcome> {
  // Every spelling of the URL an error message could quote: as written, parsed, and as fetched.
  const spellings = [target];
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  try {
    const url = new URL(target);
    spellings.push(url.href);
    const headers: Record<string, string> = { "content-type": contentType };
    if (url.username !== "" || url.password !== "") {
      const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      headers.authorization = `Basic ${Buffer.from(pair, "utf8").toString("base64")}`;
      url.username = "";
      url.password = "";
      spellings.push(url.href);
    }
    const res = await fetch(url, { method: "POST", headers, body, signal, redirect: "manual" });
    const text = await readExcerpt(res, opts.excerptBytes ?? 2048);
    const answer: PostAnswer = { status: res.status, excerpt: printable(text, opts.excerptChars ?? 200) };
    if (res.status >= 300 && res.status < 400) answer.redirectTo = locationOrigin(res, url);
    return { ok: true, answer };
  } catch (e) {
    if (timeout.aborted) return { ok: false, error: `timed out after ${opts.timeoutMs / 1000}s` };
    if (opts.signal?.aborted) return { ok: false, error: "cancelled" };
    const origin = originOf(target);
    return {
      ok: false,
      error: spellings.reduce((message, spelling) => message.split(spelling).join(origin), describe(e)),
    };
  }
}

/** Reads at most `limit` bytes of the body, then drops the connection's remainder unread. */
async function readExcerpt(res: Response, limit: number): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}

/** Control characters (terminal escapes included) become spaces; runs of space collapse; long text is cut. */
function printable(text: string, max: number): string {
  const flat = text
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
  return flat.length <= max ? flat : `${flat.slice(0, max)}…`;
}

function locationOrigin(res: Response, base: URL): string {
  const location = res.headers.get("location");
  if (location === null) return "(no location)";
  try {
    return new URL(location, base).origin;
  } catch {
    return "(no location)";
  }
}

/** An error's message and, for fetch's "fetch failed", its cause (e.g. ECONNREFUSED). */
function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause =
    e.cause instanceof Error ? ((e.cause as { code?: string }).code ?? e.cause.message) : undefined;
  return cause === undefined ? e.message : `${e.message} (${cause})`;
}

/** Scheme, host and port only: chat webhooks carry their secret in the path or query, some in userinfo. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(unparseable url)";
  }
}
