/**
 * Signed pin tokens, the controller's twin of filter/pin-token.ts: `<variant>.<expiryUnixSeconds>.<hex>`
 * where hex = HMAC-SHA256(secret, "<namespace>/<name>\n<host>\n<variant>.<expiry>"): scoped to one
 * Canary and host, so a token for one canary fails on another sharing the secret. Both sides pass
 * test/vectors/pin-token.json. The secret is the UTF-8 of the env var the filter reads: the
 * Canary's own (pinSecretEnvName) or the filter-wide `pinSecretEnv`.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Why a token was refused (the names the filter counts under). */
export type PinRejectionReason = "malformed" | "unknown_variant" | "expired" | "bad_signature";

/** A token check: the variant it pins, or why it was refused. */
export type PinTokenCheck = { ok: true; variant: string } | { ok: false; reason: PinRejectionReason };

/** An issued token with its expiry, or why none could be issued. */
export type IssueResult = { ok: true; token: string; expiresAt: number } | { ok: false; error: string };

const VARIANT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CANARY_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;
const TOKEN = /^([^.]+)\.([0-9]{1,12})\.([0-9a-fA-F]{64})$/;
/** The filter parses at most 12 expiry digits. */
const MAX_EXPIRY = 999_999_999_999;

/** What a token is for: the Canary "<namespace>/<name>" and its host (lower-cased, as the filter keeps it). */
export interface PinTokenScope {
  canary: string;
  host: string;
}

function mac(secret: string | Uint8Array, scope: PinTokenScope, payload: string): Buffer {
  const message = `${scope.canary}\n${scope.host.toLowerCase()}\n${payload}`;
  return createHmac("sha256", secret).update(message, "utf8").digest();
}

/** The filter's variable for a Canary's own pin secret (filter/pin-secret.ts). */
export function pinSecretEnvName(canary: string): string {
  const part = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  const slash = canary.indexOf("/");
  return `MESHCANARY_PIN_SECRET__${part(canary.slice(0, slash))}__${part(canary.slice(slash + 1))}`;
}

function isVariantName(s: string): boolean {
  return s.length <= 63 && VARIANT_NAME.test(s);
}

/** Issues a token for `scope` pinning `variant` until `nowSeconds + ttlSeconds` (ttl rounded up to whole seconds). */
export function issuePinToken(
  scope: PinTokenScope,
  variant: string,
  ttlSeconds: number,
  secret: string | Uint8Array,
  nowSeconds: number,
): IssueResult {
  if (!isVariantName(variant)) {
    return {
      ok: false,
      error: `variant: must match [a-z0-9]([-a-z0-9]*[a-z0-9])? (at most 63 characters), got ${JSON.stringify(variant)}`,
    };
  }
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    return { ok: false, error: `ttl: must be a positive duration, got ${ttlSeconds}s` };
  }
  if (secret.length === 0) return { ok: false, error: "secret: must not be empty" };
  if (!CANARY_ID.test(scope.canary)) {
    return { ok: false, error: `canary: must be "<namespace>/<name>", got ${JSON.stringify(scope.canary)}` };
  }
  if (scope.host.length === 0 || /[\s/]/.test(scope.host)) {
    return { ok: false, error: `host: must be the Canary's spec.host, got ${JSON.stringify(scope.host)}` };
  }
  const expiresAt = Math.floor(nowSeconds) + Math.ceil(ttlSeconds);
  if (expiresAt > MAX_EXPIRY) return { ok: false, error: `ttl: expiry ${expiresAt} is beyond ${MAX_EXPIRY}` };
  const payload = `${variant}.${expiresAt}`;
  return { ok: true, token: `${payload}.${mac(secret, scope, payload).toString("hex")}`, expiresAt };
}

/**
 * Checks a token exactly as the filter does. Order: shape, variant, signature, expiry (so
 * "expired" is only said of a genuine token); an empty secret verifies nothing.
 */
export function verifyPinToken(
  token: string,
  variantNames: readonly string[],
  secret: string | Uint8Array,
  nowSeconds: number,
  scope: PinTokenScope,
): PinTokenCheck {
  const m = TOKEN.exec(token);
  if (m === null || !isVariantName(m[1]!)) return { ok: false, reason: "malformed" };
  const [, variant, expiry, hex] = m as unknown as [string, string, string, string];
  if (!variantNames.includes(variant)) return { ok: false, reason: "unknown_variant" };
  if (secret.length === 0) return { ok: false, reason: "bad_signature" };
  const given = Buffer.from(hex, "hex");
  if (!timingSafeEqual(mac(secret, scope, `${variant}.${expiry}`), given))
    return { ok: false, reason: "bad_signature" };
  if (nowSeconds >= Number(expiry)) return { ok: false, reason: "expired" };
  return { ok: true, variant };
}
