/**
 * The one definition of what a route must match for a request the filter sent to a variant, for
 * every route renderer (VirtualService here; Gateway API HTTPRoute planning uses the same).
 *
 * A client can send `x-meshcanary-variant: canary` itself: from a namespace without the filter,
 * through a gateway without it, or when a failed filter is skipped (FAIL_OPEN). So a variant route
 * also requires `x-meshcanary-marker: <marker>`, a per-rollout secret the filter learns from the
 * Directive (Route.marker) and sets after stripping any client-sent copy. A request without the
 * right marker matches no variant route and takes the weighted fallback of the target route. The
 * marker is rotated whenever a rollout starts (new revision, retry), so one learned from an earlier
 * rollout stops working; the variant route removes it before the request goes upstream, so the
 * application never sees it.
 */
import { randomBytes } from "node:crypto";

/** Header the filter sets to the rollout's marker. */
export const MARKER_HEADER = "x-meshcanary-marker";

/** A marker: 128 random bits as 32 lower-case hex digits. */
const MARKER = /^[0-9a-f]{32}$/;

/** An exact header condition, as both Istio StringMatch and Gateway API HTTPHeaderMatch (type Exact) read it. */
export interface ExactHeader {
  name: string;
  value: string;
}

/** A fresh marker for a rollout that is starting. */
export function newVariantMarker(): string {
  return randomBytes(16).toString("hex");
}

/** Null when `marker` can be matched on, else what is wrong with it (naming the field). */
export function markerError(marker: string): string | null {
  return MARKER.test(marker)
    ? null
    : `marker: must be 32 lower-case hex digits, got ${JSON.stringify(marker)}`;
}

/**
 * The header conditions (all must hold) of the route sending `variant` to its subset: the variant
 * header, and the marker header when the rollout has a marker. Without one (a status written before
 * markers existed, until the next tick gives it one) only the variant header is matched.
 */
export function variantHeaderMatch(variantHeader: string, variant: string, marker?: string): ExactHeader[] {
  const out = [{ name: variantHeader, value: variant }];
  if (marker !== undefined) out.push({ name: MARKER_HEADER, value: marker });
  return out;
}

/** Request headers a variant route removes before forwarding: the marker stays between proxies. */
export function variantRouteRemovedHeaders(marker?: string): string[] {
  return marker !== undefined ? [MARKER_HEADER] : [];
}
