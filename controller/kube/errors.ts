/**
 * Kubernetes API failures as values. Everything in controller/kube returns KubeResult instead of
 * throwing, so callers branch on `reason` rather than on client exception classes.
 */
import { ApiException } from "@kubernetes/client-node";

/** Why a call failed: the API status reasons callers act on, plus transport trouble. */
export type KubeErrorReason =
  | "NotFound"
  | "Conflict"
  | "Gone"
  | "Invalid"
  | "Forbidden"
  | "Transient"
  | "Other";

/** A failed Kubernetes call: reason, HTTP code (0 when no response) and the server's message. */
export interface KubeError {
  reason: KubeErrorReason;
  code: number;
  message: string;
}

export type KubeResult<T> = { ok: true; value: T } | { ok: false; error: KubeError };

export const ok = <T>(value: T): KubeResult<T> => ({ ok: true, value });
export const fail = <T>(error: KubeError): KubeResult<T> => ({ ok: false, error });

/** Maps a thrown client error (ApiException or network error) to a KubeError. */
export function toKubeError(e: unknown): KubeError {
  if (e instanceof ApiException) {
    const code = e.code;
    return { reason: reasonOf(code), code, message: statusMessage(e.body) ?? e.message };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { reason: "Transient", code: 0, message };
}

function reasonOf(code: number): KubeErrorReason {
  if (code === 404) return "NotFound";
  if (code === 409) return "Conflict";
  if (code === 410) return "Gone";
  if (code === 400 || code === 422) return "Invalid";
  if (code === 401 || code === 403) return "Forbidden";
  if (code === 429 || code >= 500) return "Transient";
  return "Other";
}

function statusMessage(body: unknown): string | undefined {
  if (typeof body === "string") {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body || undefined;
    }
  }
  if (body && typeof body === "object" && typeof (body as { message?: unknown }).message === "string") {
    return (body as { message: string }).message;
  }
  return undefined;
}

/** Bounded retry policy for transient failures (5xx, 429, connection errors). */
export interface RetryPolicy {
  /** Total tries including the first. */
  attempts: number;
  /** First backoff; doubles each retry. */
  baseDelayMs: number;
  /** Deadline of each attempt; a slower answer counts as a transient failure. Default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 200 };

/** The client sets no deadline of its own, and a hung request would stall the reconcile loop forever. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Runs a client call, mapping its failure to a KubeError and retrying only transient ones. */
export async function call<T>(
  fn: () => Promise<T>,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<KubeResult<T>> {
  let last: KubeError = { reason: "Other", code: 0, message: "no attempt made" };
  for (let attempt = 0; attempt < Math.max(1, retry.attempts); attempt++) {
    if (attempt > 0) await sleep(retry.baseDelayMs * 2 ** (attempt - 1));
    try {
      return ok(await withDeadline(fn(), retry.timeoutMs ?? DEFAULT_TIMEOUT_MS));
    } catch (e) {
      last = toKubeError(e);
      if (last.reason !== "Transient") break;
    }
  }
  return fail(last);
}

/** The promise's value, or a rejection once `ms` pass (the request itself is left to finish or fail). */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  p.catch(() => undefined); // a late failure after the deadline must not surface as unhandled
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
