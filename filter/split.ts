// The per-request decision (docs/filter-config.md "The decision"): pin → sticky → weighted.
// Pure AssemblyScript: the host adapter reads the headers and the random draw and passes them in.

import { Route } from "./config";
import { BUCKETS, stickyBucket } from "./hash";

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
 * The pinned variant index, or -1. The header wins over the cookie; a pin naming no variant of
 * the route is ignored. Routes with requireToken ignore pins until token checking exists.
 */
export function pinnedVariant(route: Route, input: DecisionInput): i32 {
  if (route.requireToken) return -1;
  const h = input.pinHeader;
  if (h != null) {
    const i = route.variantIndex(h);
    if (i >= 0) return i;
  }
  const c = input.pinCookie;
  if (c != null) return route.variantIndex(c);
  return -1;
}

/** Whether the decision needs a random draw (no pin, no sticky key). */
export function needsDraw(route: Route, input: DecisionInput): bool {
  return pinnedVariant(route, input) < 0 && input.stickyKey == null;
}

/** The variant index for a request; `draw` is a uniform bucket in [0, 10000), used only if needed. */
export function decide(route: Route, input: DecisionInput, draw: u32): i32 {
  const pinned = pinnedVariant(route, input);
  if (pinned >= 0) return pinned;
  const key = input.stickyKey;
  if (key != null) return variantForBucket(route, stickyBucket(route.cohort, key));
  return variantForBucket(route, draw % BUCKETS);
}

/** Maps 32 random bits to a bucket in [0, 10000) (multiply-shift: bias below 3e-6). */
export function drawBucket(bits: u32): u32 {
  return <u32>((<u64>bits * <u64>BUCKETS) >> 32);
}
