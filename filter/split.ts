// The per-request decision (docs/filter-config.md "The decision"): pin → sticky → weighted.
// Pure AssemblyScript: the host adapter reads the headers and the random draw and passes them in.

import { Route } from "./config";
import { BUCKETS, fmix32, fnv1aString } from "./hash";
import { PinRejection, pinTokenScope, verifyPinToken } from "./pin-token";
import { decideCounterGroup, decideNoGroup, decideStickyGroup } from "./user-groups";

/** How a variant was chosen. */
export enum Reason {
  Pin,
  Sticky,
  Weighted,
}

/** What the request carried that matters for the decision (null = absent). */
export class DecisionInput {
  pinHeader: string | null = null;
  pinCookie: string | null = null;
  stickyKey: string | null = null;
  /** HMAC key for pin tokens on requireToken routes; empty: no token verifies. */
  pinSecret: Uint8Array = new Uint8Array(0);
  /** Wall clock in seconds since the epoch (token expiry); read only for requireToken routes. */
  nowSeconds: i64 = 0;

  /** Back to "nothing carried", so the host adapter can reuse one input for every request. */
  reset(): void {
    this.pinHeader = null;
    this.pinCookie = null;
    this.stickyKey = null;
    this.pinSecret = NO_SECRET;
    this.nowSeconds = 0;
  }
}

const NO_SECRET = new Uint8Array(0);

/** What the pin header/cookie amount to: the pinned variant (or -1) and why a token was refused. */
export class PinOutcome {
  variant: i32 = -1;
  /** The first refused token's reason when no pin counted; None otherwise. */
  rejection: PinRejection = PinRejection.None;
}

/** Index of the variant owning `bucket` (in [0, 10000)): the first whose range end is above it. */
export function variantForBucket(route: Route, bucket: u32): i32 {
  const ends = route.ends;
  for (let i = 0; i < ends.length; i++) {
    if (bucket < ends[i]) return i;
  }
  return ends.length - 1;
}

/**
 * The pin outcome. The header wins over the cookie; a pin naming no variant of the route is
 * ignored. On requireToken routes each value must be a valid token (pin-token.ts); a refused one is
 * ignored too, and its reason reported so the host can count it.
 */
export function resolvePin(route: Route, input: DecisionInput): PinOutcome {
  return resolvePinInto(route, input, new PinOutcome());
}

/** resolvePin into a caller's (reused) outcome; returns `out`. */
export function resolvePinInto(route: Route, input: DecisionInput, out: PinOutcome): PinOutcome {
  out.variant = -1;
  out.rejection = PinRejection.None;
  if (!pinFrom(route, input.pinHeader, input, out)) pinFrom(route, input.pinCookie, input, out);
  return out;
}

/** Applies one pin value (header or cookie) to `out`; true once it pinned a variant. */
function pinFrom(route: Route, v: string | null, input: DecisionInput, out: PinOutcome): bool {
  if (v == null) return false;
  if (!route.requireToken) {
    out.variant = route.variantIndex(v);
  } else {
    const check = verifyPinToken(v, route.variants, input.pinSecret, input.nowSeconds, pinTokenScope(route.canary, route.host));
    out.variant = check.variant;
    if (!check.ok && out.rejection == PinRejection.None) out.rejection = check.rejection;
  }
  if (out.variant < 0) return false;
  out.rejection = PinRejection.None;
  return true;
}

/** The pinned variant index, or -1 (see resolvePin). */
export function pinnedVariant(route: Route, input: DecisionInput): i32 {
  return resolvePin(route, input).variant;
}

/** Whether the decision needs a random draw (no pin, no sticky key). */
export function needsDraw(route: Route, input: DecisionInput): bool {
  return drawNeeded(resolvePin(route, input), input);
}

/** Whether a request whose pin was already resolved needs a random draw. */
export function drawNeeded(pin: PinOutcome, input: DecisionInput): bool {
  return pin.variant < 0 && input.stickyKey == null;
}

/** The variant index for a request; `draw` is a uniform bucket in [0, 10000), used only if needed. */
export function decide(route: Route, input: DecisionInput, draw: u32): i32 {
  return decideWithPin(route, resolvePin(route, input), input, draw);
}

/** decide() for a request whose pin was already resolved (the host resolves it once, to count). */
export function decideWithPin(route: Route, pin: PinOutcome, input: DecisionInput, draw: u32): i32 {
  if (pin.variant >= 0) {
    decideNoGroup();
    return pin.variant;
  }
  const key = input.stickyKey;
  if (key != null) {
    // bucketAfter's hash, kept whole: its top bits are the user's group (filter/user-groups.ts).
    const mixed = fmix32(fnv1aString(route.cohortPrefix(), key));
    decideStickyGroup(mixed);
    return variantForBucket(route, mixed % BUCKETS);
  }
  decideCounterGroup();
  return variantForBucket(route, draw % BUCKETS);
}

/** Maps 32 random bits to a bucket in [0, 10000) (multiply-shift: bias below 3e-6). */
export function drawBucket(bits: u32): u32 {
  return <u32>((<u64>bits * <u64>BUCKETS) >> 32);
}
