/**
 * Plain data shared by the mesh planner and its applier: the VirtualService shape (Istio's own
 * generated types, for both served versions) and what a Canary wants from the mesh.
 */
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";

/** An Istio VirtualService as read from the API (v1 or v1beta1 share one schema). */
export type VirtualService = Omit<IVirtualService, "apiVersion"> & {
  apiVersion: "networking.istio.io/v1" | "networking.istio.io/v1beta1";
};
/** One entry of `spec.http`. */
export type HttpRoute = NonNullable<NonNullable<IVirtualService["spec"]>["http"]>[number];
/** One entry of `spec.http[].match`. */
export type HttpMatch = NonNullable<HttpRoute["match"]>[number];
/** One entry of `spec.http[].route` (a destination with its weight). */
export type RouteDestination = NonNullable<HttpRoute["route"]>[number];

/** One variant's share of traffic and the DestinationRule subset serving it. */
export interface VariantWeight {
  /** Variant name as the filter writes it into the variant header (e.g. "stable", "canary"). */
  variant: string;
  /** DestinationRule subset that serves this variant. */
  subset: string;
  /** Share in basis points, 0..10000; all entries sum to 10000. */
  weightBp: number;
}

/** Pin fallbacks rendered into the VirtualService, for requests the filter did not mark. */
export interface PinRoutes {
  /** Header whose value names a variant (e.g. "x-canary: canary"). */
  header?: string;
  /** Cookie whose value names a variant. */
  cookie?: string;
}

/** What one Canary wants from its VirtualService. */
export interface MeshIntent {
  /** The owning Canary as "<namespace>/<name>"; its name scopes the routes we own. */
  canary: string;
  /** Service host whose traffic is split (short or fully qualified name). */
  host: string;
  /** Name of the http route to split; default: the only route, else the first one sending to host. */
  routeName?: string;
  /** One entry per variant (stable first, canary last): header route + weighted fallback on the target route. */
  weights: VariantWeight[];
  /**
   * Pin header/cookie rendered as plain header matches. Leave unset when pins require a token:
   * the VirtualService cannot verify tokens, so a pin route would bypass them.
   */
  pins?: PinRoutes;
  /**
   * Shadow: mirror this share of the requests marked for `mirror.from` (the stable variant) to the
   * subset; Envoy discards the mirrored responses (Istio VirtualService mirror/mirrorPercentage).
   */
  mirror?: MirrorIntent;
  /** Header the filter sets; default "x-meshcanary-variant". */
  variantHeader?: string;
  /** This rollout's marker (variant-match.ts): variant routes also require it. */
  marker?: string;
  /** true while the canary runs; false on finish/abort (remove our routes, restore the original). */
  active: boolean;
  /** On deactivation, send the target route 100% to this subset instead of restoring the original. */
  finalSubset?: string;
}

/** A mirror on the routes of one variant. */
export interface MirrorIntent {
  /** Variant whose routes carry the mirror (the one serving users: "stable"). */
  from: string;
  /** DestinationRule subset receiving the copies. */
  subset: string;
  /** Share mirrored, basis points 1..10000. */
  bp: number;
}

/** Why a plan could not be made; mirrors a Canary status condition reason. */
export type MeshConditionReason = "InvalidIntent" | "TargetRouteMissing" | "SubsetMissing" | "ForeignEdit";

/** A plan that could not be made: a message naming the field or route, and its reason. */
export interface MeshPlanError {
  error: string;
  condition: MeshConditionReason;
}

/** A planned VirtualService and whether it differs from the observed one. */
export interface MeshPlan {
  vs: VirtualService;
  changed: boolean;
}

export const DEFAULT_VARIANT_HEADER = "x-meshcanary-variant";
/** Annotation holding, per canary, the original target route and a digest of what we last wrote. */
export const STATE_ANNOTATION = "meshcanary.io/state";
