/**
 * The webhook sections of the Canary spec: notification webhooks (told of phase changes) and
 * gating webhooks (whose answer can hold or stop the rollout). Separate because both are calls to
 * outside endpoints (controller/notify), not part of routing or analysis.
 */
import { Type } from "@sinclair/typebox";
import { PHASES } from "./phases.js";
import { Duration, NAME_PATTERN, Obj, StringEnum } from "./schema-builders.js";

/** Body formats of webhook notifications (controller/notify/formats.ts). */
export const WEBHOOK_FORMATS = ["json", "slack", "teams", "cloudevents"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** Kinds of gating webhook (controller/rollout/gates.ts): when they are called and what they hold. */
export const GATE_TYPES = ["pre-rollout", "confirm-promotion", "post-rollout"] as const;
export type GateType = (typeof GATE_TYPES)[number];

/** One spec.webhooks entry. */
export const WebhookSchema = Obj(
  {
    name: Type.String({ description: "Webhook name", pattern: NAME_PATTERN, maxLength: 63 }),
    url: Type.String({
      description: "http(s) URL receiving a JSON POST per event",
      pattern: "^https?://",
      maxLength: 2048,
    }),
    events: Type.Optional(
      Type.Array(StringEnum(PHASES, "Phase"), {
        description: "Phases that trigger the webhook; default all",
      }),
    ),
    timeoutSeconds: Type.Optional(
      Type.Integer({ description: "Request timeout", minimum: 1, maximum: 60, default: 10 }),
    ),
    format: Type.Optional(
      StringEnum(
        WEBHOOK_FORMATS,
        "Body format: json (meshcanary's own), slack, teams (Adaptive Card) or cloudevents (CloudEvents 1.0 JSON); default json",
      ),
    ),
  },
  "A notification endpoint",
);

/** One spec.gates entry. */
export const GateSchema = Obj(
  {
    name: Type.String({ description: "Gate name", pattern: NAME_PATTERN, maxLength: 63 }),
    type: StringEnum(
      GATE_TYPES,
      "pre-rollout: must pass before the first step (failureLimit failures roll back); confirm-promotion: holds promotion until it passes; post-rollout: called once when the rollout ends, informational",
    ),
    url: Type.String({
      description: "http(s) URL receiving a JSON POST; a 2xx answer passes, anything else fails",
      pattern: "^https?://",
      maxLength: 2048,
    }),
    timeoutSeconds: Type.Optional(
      Type.Integer({
        description: "Limit on each call, body included",
        minimum: 1,
        maximum: 60,
        default: 10,
      }),
    ),
    interval: Type.Optional(
      Duration("Time between calls while the gate holds the rollout", { default: "10s" }),
    ),
    failureLimit: Type.Optional(
      Type.Integer({
        description: "pre-rollout: failed calls (in this rollout attempt) that roll it back",
        minimum: 1,
        maximum: 100,
        default: 3,
      }),
    ),
    metadata: Type.Optional(
      Type.Object(
        {},
        {
          description: "String pairs sent as the payload's metadata",
          additionalProperties: Type.String({ maxLength: 1024 }),
          maxProperties: 32,
        },
      ),
    ),
  },
  "A gating webhook: its answer can hold or stop the rollout (Flagger's webhook types of the same names)",
);
