/**
 * The one definition of the Canary resource (canaries.meshcanary.io/v1alpha1). It yields the
 * TypeScript types (Static), the structural validation (validate.ts), the defaults (schema
 * `default` annotations, applied by defaults.ts) and the CRD's OpenAPI schema (crd.ts).
 * The sections are written in their own modules (routing, strategy, analysis, webhooks, llm,
 * status) and composed here; import the Canary's types and constants from this file.
 */
import { type Static, Type } from "@sinclair/typebox";
import { AnalysisSchema, type CheckSchema, MetricSchema } from "./analysis-schema.js";
import { LlmSchema } from "./llm-schema.js";
import {
  HttpRouteRefSchema,
  PinsSchema,
  StickySchema,
  VirtualServiceRefSchema,
  variantTargetSchema,
} from "./routing-schema.js";
import { Obj } from "./schema-builders.js";
import {
  CanaryStatusSchema,
  type CheckResultSchema,
  type CommandResultSchema,
  type ConditionSchema,
  type DecisionSchema,
  type GateStatusSchema,
  type TransitionSchema,
} from "./status-schema.js";
import { type CanaryStepSchema, StrategySchema } from "./strategy-schema.js";
import { GateSchema, WebhookSchema } from "./webhooks-schema.js";

export { type Phase, PHASES } from "./phases.js";
export { CanaryStatusSchema } from "./status-schema.js";
export { GATE_TYPES, type GateType, WEBHOOK_FORMATS, type WebhookFormat } from "./webhooks-schema.js";

export const GROUP = "meshcanary.io";
export const VERSION = "v1alpha1";
export const KIND = "Canary";
export const PLURAL = "canaries";
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The spec: what the user asks for. */
export const CanarySpecSchema = Obj(
  {
    host: Type.String({
      description: "Target host, e.g. reviews.default.svc.cluster.local",
      minLength: 1,
      maxLength: 253,
    }),
    virtualService: Type.Optional(VirtualServiceRefSchema),
    httpRoute: Type.Optional(HttpRouteRefSchema),
    stable: variantTargetSchema("stable"),
    canary: variantTargetSchema("canary"),
    strategy: StrategySchema,
    pins: Type.Optional(PinsSchema),
    sticky: Type.Optional(StickySchema),
    cohort: Type.Optional(
      Type.String({
        description: "Sticky hash salt shared by the canaries of one release; default the Canary",
      }),
    ),
    metrics: Type.Optional(
      Type.Array(MetricSchema, { description: "Numeric response headers to tally", maxItems: 8 }),
    ),
    llm: Type.Optional(LlmSchema),
    analysis: Type.Optional(AnalysisSchema),
    webhooks: Type.Optional(Type.Array(WebhookSchema, { description: "Notifications of phase changes" })),
    gates: Type.Optional(
      Type.Array(GateSchema, {
        description: "Gating webhooks that can hold or stop the rollout",
        maxItems: 16,
      }),
    ),
    revertOnDeletion: Type.Optional(
      Type.Boolean({
        description:
          "Deleting the Canary mid-rollout first restores the VirtualService's original route (finalizer meshcanary.io/revert-routing)",
        default: true,
      }),
    ),
  },
  "Desired rollout of the canary subset of a host",
);

/** The whole resource as stored and validated. */
export const CanarySchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(KIND),
    metadata: Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        namespace: Type.Optional(Type.String()),
        generation: Type.Optional(Type.Integer()),
      },
      { additionalProperties: true },
    ),
    spec: CanarySpecSchema,
    status: Type.Optional(CanaryStatusSchema),
  },
  { additionalProperties: false },
);

export type CanarySpec = Static<typeof CanarySpecSchema>;
export type CanaryStatus = Static<typeof CanaryStatusSchema>;
export type Canary = Static<typeof CanarySchema>;
export type CanaryStep = Static<typeof CanaryStepSchema>;
export type Analysis = Static<typeof AnalysisSchema>;
export type Pins = Static<typeof PinsSchema>;
export type AnalysisCheck = Static<typeof CheckSchema>;
export type Condition = Static<typeof ConditionSchema>;
export type CheckResult = Static<typeof CheckResultSchema>;
export type Decision = Static<typeof DecisionSchema>;
export type Transition = Static<typeof TransitionSchema>;
export type CommandResult = Static<typeof CommandResultSchema>;
export type Gate = Static<typeof GateSchema>;
export type GateStatus = Static<typeof GateStatusSchema>;
