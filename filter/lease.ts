// The reporter lease in shared data: `<holder id>:<expiry unix ms>`. One worker at a time holds it
// and streams the proxy's report; a holder that stops renewing loses it after its expiry. Pure.

/** A parsed lease value. */
export class Lease {
  holder: string = "";
  expiryMs: i64 = 0;
}

/** `holder:expiry` → Lease, or null when malformed (then it is treated as free). */
export function parseLease(text: string): Lease | null {
  const colon = text.lastIndexOf(":");
  if (colon <= 0 || colon == text.length - 1) return null;
  const digits = text.substring(colon + 1);
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
  }
  if (digits.length > 18) return null;
  const l = new Lease();
  l.holder = text.substring(0, colon);
  l.expiryMs = I64.parseInt(digits);
  return l;
}

/** The lease value for `holder` until `expiryMs`. */
export function formatLease(holder: string, expiryMs: i64): string {
  return holder + ":" + expiryMs.toString();
}

/**
 * Whether `me` may (re)write the lease at `nowMs`: it is free, expired, malformed or already mine.
 * An expiry more than `maxTermMs` ahead was written before the wall clock jumped back: it counts as
 * expired, or a stuck holder would keep the lease for the size of the jump.
 */
export function mayTakeLease(current: Lease | null, me: string, nowMs: i64, maxTermMs: i64 = i64.MAX_VALUE): bool {
  if (current == null) return true;
  return current.holder == me || current.expiryMs <= nowMs || current.expiryMs - nowMs > maxTermMs;
}
