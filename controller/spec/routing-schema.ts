/**
 * The routing sections of the Canary spec: which route to split (a VirtualService or an
 * HTTPRoute), the stable and canary targets, and how a request pins itself or stays sticky to a
 * variant. Separate from the rollout's strategy and analysis, which never look at routing.
 */
import { Type } from "@sinclair/typebox";
import { HEADER_PATTERN, NAME_PATTERN, Obj } from "./schema-builders.js";

/** spec.virtualService: the Istio route meshcanary splits. */
export const VirtualServiceRefSchema = Obj(
  {
    name: Type.String({
      description: "VirtualService routing the host (same namespace)",
      minLength: 1,
      maxLength: 253,
    }),
    route: Type.Optional(
      Type.String({
        description: "Name of the http route to split when the VirtualService has several",
      }),
    ),
  },
  "The user's VirtualService; meshcanary adds its own meshcanary-* routes on top",
);

/** spec.httpRoute: the Gateway API route meshcanary splits. */
export const HttpRouteRefSchema = Obj(
  {
    name: Type.String({
      description: "Gateway API HTTPRoute routing the host (same namespace; parentRef a Service or Gateway)",
      minLength: 1,
      maxLength: 253,
    }),
    rule: Type.Optional(
      Type.String({ description: "Name of the rule to split when the HTTPRoute has several" }),
    ),
  },
  "The user's HTTPRoute (sidecar + Gateway API, or ambient waypoint); meshcanary adds meshcanary-* rules",
);

/** Where the stable or the canary version receives its traffic: a subset or a Service. */
export const variantTargetSchema = (who: "stable" | "canary") =>
  Obj(
    {
      subset: Type.Optional(
        Type.String({
          description: `DestinationRule subset of the ${who} version (with spec.virtualService)`,
          minLength: 1,
          maxLength: 63,
        }),
      ),
      service: Type.Optional(
        Type.String({
          description: `Kubernetes Service of the ${who} version, e.g. reviews-v1 (with spec.httpRoute: a backendRef)`,
          pattern: NAME_PATTERN,
          maxLength: 63,
        }),
      ),
    },
    `The ${who} version: a subset (VirtualService) or a Service (HTTPRoute)`,
  );

/** spec.pins: how a request asks for a given variant. */
export const PinsSchema = Obj(
  {
    header: Type.Optional(
      Type.String({
        description: "Request header naming the variant to pin",
        pattern: HEADER_PATTERN,
        default: "x-meshcanary-pin",
      }),
    ),
    cookie: Type.Optional(
      Type.String({
        description: "Cookie naming the variant to pin",
        minLength: 1,
        default: "meshcanary-pin",
      }),
    ),
    requireToken: Type.Optional(
      Type.Boolean({
        description: "Honour a pin only with a valid signed token (variant.expiry.hmac)",
        default: false,
      }),
    ),
  },
  "How a request pins itself to a variant",
  { default: {} },
);

/** spec.sticky: the user key of sticky assignment. */
export const StickySchema = Obj(
  {
    header: Type.Optional(
      Type.String({ description: "Request header holding the user key", pattern: HEADER_PATTERN }),
    ),
    cookie: Type.Optional(
      Type.String({ description: "Cookie holding the user key", minLength: 1, maxLength: 256 }),
    ),
  },
  "User key that keeps a user on their variant as the weight grows; exactly one of header, cookie",
);
