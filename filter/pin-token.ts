// Signed pin tokens (docs/filter-config.md, "Pin tokens"): `<variant>.<expiryUnixSeconds>.<64 hex>`,
// the hex being HMAC-SHA256(secret, "<namespace>/<name>\n<host>\n<variant>.<expiry>"): the scope
// (canary and host) is signed but not carried, so a token for one Canary fails on every other one
// even where they share a secret. Pure AssemblyScript; the TypeScript twin is
// controller/security/pin-token.ts and both pass test/vectors/pin-token.json.

import { isVariantName } from "./config-table";
import { hexValue } from "./hex";
import { hmacSha256 } from "./hmac";
import { SHA256_BYTES } from "./sha256";

/** Why a presented token was refused (None: accepted, or no token). */
export enum PinRejection {
  None = 0,
  Malformed = 1,
  UnknownVariant = 2,
  Expired = 3,
  BadSignature = 4,
}

/** Number of PinRejection values after None (for per-reason counter arrays). */
export const PIN_REJECTION_REASONS: i32 = 4;

/** Expiry digits allowed: 12 reach past the year 30000, and keep the value far from i64 overflow. */
const MAX_EXPIRY_DIGITS = 12;
const HEX_CHARS = SHA256_BYTES * 2;

/** The wire name of a rejection reason (counter keys, logs, the TypeScript twin). */
export function pinRejectionName(r: PinRejection): string {
  switch (r) {
    case PinRejection.Malformed:
      return "malformed";
    case PinRejection.UnknownVariant:
      return "unknown_variant";
    case PinRejection.Expired:
      return "expired";
    case PinRejection.BadSignature:
      return "bad_signature";
    default:
      return "none";
  }
}

/** The outcome of checking one token: the variant index it pins, or why it was refused. */
export class PinTokenCheck {
  /** Index into the variant list, or -1 when refused. */
  variant: i32 = -1;
  rejection: PinRejection = PinRejection.None;

  get ok(): bool {
    return this.variant >= 0;
  }
}

function refused(r: PinRejection): PinTokenCheck {
  const c = new PinTokenCheck();
  c.rejection = r;
  return c;
}

/** The signed prefix naming what a token is for: "<namespace>/<name>\n<host>\n". */
export function pinTokenScope(canary: string, host: string): string {
  return canary + "\n" + host + "\n";
}

/**
 * Checks `token` against the route's variant names, the HMAC `secret`, the route's `scope`
 * (pinTokenScope) and the wall clock.
 * Order: shape (malformed), variant (unknown_variant), signature (bad_signature), then expiry, so
 * "expired" is only ever said of a genuine token. An empty secret verifies nothing (fail closed).
 * The MAC comparison looks at all 32 bytes whatever they hold (no early exit).
 */
export function verifyPinToken(
  token: string,
  variants: Array<string>,
  secret: Uint8Array,
  nowSeconds: i64,
  scope: string,
): PinTokenCheck {
  const dot1 = token.indexOf(".");
  const dot2 = token.lastIndexOf(".");
  if (dot1 <= 0 || dot2 <= dot1 + 1 || token.length - dot2 - 1 != HEX_CHARS) {
    return refused(PinRejection.Malformed);
  }
  const variant = token.substring(0, dot1);
  const expiry = parseExpiry(token, dot1 + 1, dot2);
  const signature = decodeHex(token, dot2 + 1);
  if (!isVariantName(variant) || expiry < 0 || signature == null) return refused(PinRejection.Malformed);
  let index = -1;
  for (let i = 0; i < variants.length; i++) {
    if (variants[i] == variant) index = i;
  }
  if (index < 0) return refused(PinRejection.UnknownVariant);
  if (secret.length == 0) return refused(PinRejection.BadSignature);
  const mac = hmacSha256(secret, Uint8Array.wrap(String.UTF8.encode(scope + token.substring(0, dot2))));
  if (!sameBytes(mac, signature)) return refused(PinRejection.BadSignature);
  if (nowSeconds >= expiry) return refused(PinRejection.Expired);
  const ok = new PinTokenCheck();
  ok.variant = index;
  return ok;
}

/** Decimal digits in [from, to) as an i64, or -1 (empty, too long, or not digits). */
function parseExpiry(s: string, from: i32, to: i32): i64 {
  if (to - from < 1 || to - from > MAX_EXPIRY_DIGITS) return -1;
  let v: i64 = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + <i64>(c - 0x30);
  }
  return v;
}

/** 64 hex digits (either case) from `from` to the end as 32 bytes, or null. */
function decodeHex(s: string, from: i32): Uint8Array | null {
  const out = new Uint8Array(SHA256_BYTES);
  for (let i = 0; i < SHA256_BYTES; i++) {
    const hi = hexValue(s.charCodeAt(from + 2 * i));
    const lo = hexValue(s.charCodeAt(from + 2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = <u8>((hi << 4) | lo);
  }
  return out;
}

/** Constant-time equality of two 32-byte MACs: every byte is compared, differences are OR-ed. */
function sameBytes(a: Uint8Array, b: Uint8Array): bool {
  let diff: u32 = 0;
  for (let i = 0; i < SHA256_BYTES; i++) diff |= <u32>(a[i] ^ b[i]);
  return diff == 0;
}
