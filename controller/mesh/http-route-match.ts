/**
 * The value an HTTPRoute header rule matches for a variant. One function, so that a per-rollout
 * marker in the header value (the trust work's variant marker) changes HTTPRoute rules and
 * VirtualService routes alike by switching this to the shared definition.
 */
import type { MeshIntent } from "./types.js";

/** The exact `x-meshcanary-variant` value a request of `variant` carries for `intent`'s canary. */
export function variantMatchValue(_intent: MeshIntent, variant: string): string {
  return variant;
}
