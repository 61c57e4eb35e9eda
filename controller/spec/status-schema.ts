/**
 * The Canary's status: what the controller observed and decided (phase, step, weights, conditions,
 * the last decision, history, command and gate outcomes). Separate from the spec sections because
 * only the controller writes it; users never do.
 */
import { Type } from "@sinclair/typebox";
import { PHASES } from "./phases.js";
import { Obj, Opaque, StringEnum } from "./schema-builders.js";
import { GATE_TYPES } from "./webhooks-schema.js";

/** One status.conditions entry. */
export const ConditionSchema = Obj(
  {
    type: Type.String({
      description: "Ready, VirtualServiceReady, AnalysisPassing or SampleRatioMismatch",
    }),
    status: StringEnum(["True", "False", "Unknown"] as const, "Condition status"),
    reason: Type.String({ description: "CamelCase reason" }),
    message: Type.String({ description: "Human-readable detail" }),
    lastTransitionTime: Type.String({ description: "RFC3339 time the status last changed" }),
  },
  "A Kubernetes-style condition",
);

/** One check's verdict in status.lastDecision. */
export const CheckResultSchema = Type.Object(
  {
    name: Type.String({ description: "Check name" }),
    verdict: StringEnum(["pass", "fail", "inconclusive"] as const, "Verdict"),
    message: Type.Optional(Type.String({ description: "Evidence, e.g. rates and e-value" })),
  },
  {
    description: "One check's verdict",
    additionalProperties: true,
    "x-kubernetes-preserve-unknown-fields": true,
  },
);

/** status.lastDecision. */
export const DecisionSchema = Obj(
  {
    at: Type.String({ description: "RFC3339 time of the decision" }),
    action: Type.String({ description: "What the controller did, e.g. advance, hold, rollback" }),
    reason: Type.String({ description: "Why" }),
    checks: Type.Array(CheckResultSchema, { description: "Per-check verdicts" }),
  },
  "The last rollout decision",
);

/** One status.history entry. */
export const TransitionSchema = Obj(
  {
    at: Type.String({ description: "RFC3339 time" }),
    from: Type.String({ description: "Phase left" }),
    to: Type.String({ description: "Phase entered" }),
    step: Type.Integer({ description: "Step index" }),
    weightBp: Type.Integer({ description: "Canary weight in basis points" }),
    reason: Type.String({ description: "Why" }),
  },
  "A phase or step transition",
);

/** status.commandResult. */
export const CommandResultSchema = Obj(
  {
    command: Type.String({ description: 'The annotation value handled, "<command>/<nonce>"' }),
    result: StringEnum(["Applied", "Refused", "Invalid"] as const, "Whether the command took effect"),
    message: Type.String({ description: "What the command did, or why it was refused" }),
    at: Type.String({ description: "RFC3339 time it was handled" }),
  },
  "Outcome of the last operator command",
);

/** One status.gates entry. */
export const GateStatusSchema = Obj(
  {
    name: Type.String({ description: "Gate name" }),
    type: StringEnum(GATE_TYPES, "Gate type"),
    result: StringEnum(
      ["Pending", "Passed", "Failed"] as const,
      "Outcome of the last call since the gate opened",
    ),
    failures: Type.Integer({ description: "Failed calls since the gate opened", minimum: 0 }),
    message: Type.String({
      description: "What the last call returned, e.g. HTTP 503 and the start of the body",
    }),
    since: Type.String({ description: "RFC3339 time the gate opened (calls started before are ignored)" }),
    at: Type.Optional(Type.String({ description: "RFC3339 time of the last call's answer" })),
  },
  "A gating webhook's state in this rollout attempt",
);

/** The whole status subresource. */
export const CanaryStatusSchema = Obj(
  {
    phase: Type.Optional(StringEnum(PHASES, "Rollout phase")),
    step: Type.Optional(Type.Integer({ description: "Index of the current step", minimum: 0 })),
    stepStartedAt: Type.Optional(
      Type.String({ description: "RFC3339 time the current step's weights were confirmed in force" }),
    ),
    canaryWeight: Type.Optional(Type.Number({ description: "Canary weight, percent" })),
    weightBp: Type.Optional(
      Type.Integer({ description: "Canary weight, basis points", minimum: 0, maximum: 10000 }),
    ),
    routingVersion: Type.Optional(
      Type.Integer({ description: "Version of the routing table last set", minimum: 0 }),
    ),
    revision: Type.Optional(Type.String({ description: "Canary revision this rollout is for" })),
    observedGeneration: Type.Optional(Type.Integer({ description: "metadata.generation last acted on" })),
    conditions: Type.Optional(Type.Array(ConditionSchema, { description: "Current conditions" })),
    lastDecision: Type.Optional(DecisionSchema),
    message: Type.Optional(Type.String({ description: "What the rollout is doing or waiting for" })),
    pausedBy: Type.Optional(
      StringEnum(
        ["approval", "manual", "gate"] as const,
        "Why the rollout is paused (gate: confirm-promotion gates hold the promotion)",
      ),
    ),
    history: Type.Optional(
      Type.Array(TransitionSchema, { description: "Recent transitions, newest last", maxItems: 20 }),
    ),
    analysisState: Type.Optional(Opaque("Analysis state to resume the sequential tests")),
    report: Type.Optional(Opaque("Comparison report of a finished A/B test")),
    lastCommand: Type.Optional(
      Type.String({ description: 'Last operator command handled, as "<command>/<nonce>"' }),
    ),
    commandResult: Type.Optional(CommandResultSchema),
    undone: Type.Optional(
      Type.Boolean({
        description: "Rolled back by undo after a promotion: routing ends on the stable subset",
      }),
    ),
    exposure: Type.Optional(
      Type.Object(
        {
          requests: Type.Optional(Type.Number({ description: "Canary share of requests, percent" })),
          tokens: Type.Optional(Type.Number({ description: "Canary share of LLM tokens, percent" })),
          cost: Type.Optional(Type.Number({ description: "Canary share of LLM cost, percent" })),
        },
        {
          description:
            "spec.llm: the canary's share in the current step of requests, tokens and cost (a 5% request share can carry a very different share of tokens)",
        },
      ),
    ),
    variantMarker: Type.Optional(
      Type.String({
        description:
          "This rollout's x-meshcanary-marker value: variant routes require it; rotated per rollout",
        pattern: "^[0-9a-f]{32}$",
      }),
    ),
    gates: Type.Optional(
      Type.Array(GateStatusSchema, { description: "Gating webhooks opened in this attempt" }),
    ),
  },
  "Observed state of the rollout",
);
