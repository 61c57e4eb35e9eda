/**
 * The one definition of the Canary resource (canaries.meshcanary.io/v1alpha1). It yields the
 * TypeScript types (Static), the structural validation (validate.ts), the defaults (schema
 * `default` annotations, applied by defaults.ts) and the CRD's OpenAPI schema (crd.ts).
 */
import { type Static, type TSchema, type TUnsafe, Type } from "@sinclair/typebox";
import { LlmSchema } from "./llm-schema.js";

export const GROUP = "meshcanary.io";
export const VERSION = "v1alpha1";
export const KIND = "Canary";
export const PLURAL = "canaries";
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Rollout phases, in the order a healthy rollout visits them. */
/** Body formats of webhook notifications (controller/notify/formats.ts). */
export const WEBHOOK_FORMATS = ["json", "slack", "teams", "cloudevents"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** Kinds of gating webhook (controller/rollout/gates.ts): when they are called and what they hold. */
export const GATE_TYPES = ["pre-rollout", "confirm-promotion", "post-rollout"] as const;
export type GateType = (typeof GATE_TYPES)[number];

export const PHASES = [
  "Initializing",
  "Progressing",
  "Paused",
  "Promoting",
  "Succeeded",
  "RollingBack",
  "RolledBack",
  "Aborted",
] as const;

const DURATION_DOC = 'Go-style duration, e.g. "30s", "1m30s", "2h"';
const NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const HEADER_PATTERN = "^[a-z0-9!#$%&'*+.^_`|~-]+$";

/** A closed object: unknown keys are reported by validation (the CRD drops the flag; Kubernetes prunes). */
function Obj<T extends Record<string, TSchema>>(properties: T, description: string, extra: object = {}) {
  return Type.Object(properties, { description, additionalProperties: false, ...extra });
}

/** A string restricted to a fixed set; rendered as `enum` in the CRD. */
function StringEnum<T extends readonly string[]>(values: T, description: string, extra: object = {}) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { description, ...extra },
  ) as unknown as TUnsafe<T[number]>;
}

function Duration(description: string, extra: object = {}) {
  return Type.String({ description: `${description} (${DURATION_DOC})`, minLength: 1, ...extra });
}

/** Opaque JSON kept as written (x-kubernetes-preserve-unknown-fields). */
function Opaque(description: string) {
  return Type.Object(
    {},
    { description, additionalProperties: true, "x-kubernetes-preserve-unknown-fields": true },
  );
}

const Subset = (who: string) =>
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

/** A fresh step schema per use, so the generated CRD has no YAML aliases. */
const canaryStep = () =>
  Obj(
    {
      weight: Type.Number({
        description: "Percent of traffic to the canary, 0.01 (one basis point) to 100",
        minimum: 0.01,
        maximum: 100,
      }),
      pause: Type.Optional(
        Obj(
          { duration: Type.Optional(Duration("Least time to stay at this weight")) },
          "Hold at this weight",
        ),
      ),
      approval: Type.Optional(
        Type.Boolean({ description: "Wait for `meshcanary approve` before leaving this step" }),
      ),
    },
    "One weight step",
  );
const CanaryStep = canaryStep();

const Strategy = Obj(
  {
    canary: Type.Optional(
      Obj(
        { steps: Type.Array(CanaryStep, { description: "Weight steps, non-decreasing", minItems: 1 }) },
        "Progressive weight steps, each gated by analysis or approval, then promotion",
      ),
    ),
    blueGreen: Type.Optional(
      Obj(
        {
          previewDuration: Type.Optional(Duration("How long pinned requests preview the canary")),
          approval: Type.Optional(Type.Boolean({ description: "Wait for `meshcanary approve` to switch" })),
          scrutinyWindow: Type.Optional(
            Duration(
              "After the switch, how long analysis keeps watching; a fail or `undo` in it switches back in one step, and the old version is kept until it ends",
            ),
          ),
        },
        "Preview through pins only (0% weight), analysis of the pinned traffic, then one switch to 100%",
      ),
    ),
    abTest: Type.Optional(
      Obj(
        {
          weight: Type.Number({
            description: "Percent of traffic to the canary",
            minimum: 0.01,
            maximum: 100,
          }),
          duration: Duration("How long the split runs"),
          stopWhenConclusive: Type.Optional(
            Type.Boolean({
              description: "End before duration once the anytime-valid comparison is conclusive",
            }),
          ),
          promote: Type.Optional(
            Type.Boolean({
              description: "Switch 100% to the canary when the comparison passes (default: report only)",
            }),
          ),
        },
        "Fixed split (sticky by user) for a duration, then a comparison report; no promotion unless asked",
      ),
    ),
    shadow: Type.Optional(
      Obj(
        {
          duration: Duration("How long traffic is mirrored (and analysed) at least"),
          mirrorPercent: Type.Optional(
            Type.Number({
              description: "Percent of stable's requests mirrored to the canary, 0.01 to 100",
              minimum: 0.01,
              maximum: 100,
              default: 100,
            }),
          ),
          canarySteps: Type.Optional(
            Type.Array(CanaryStep, {
              description:
                "After the shadow passes, continue as a canary with these steps (default: report only)",
              minItems: 1,
            }),
          ),
        },
        "Mirror a share of stable's requests to the canary (responses discarded), compare shadow with stable",
      ),
    ),
  },
  "Exactly one of canary, blueGreen, abTest, shadow",
);

const Pins = Obj(
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

const Sticky = Obj(
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

const Metric = Obj(
  {
    name: Type.String({
      description: "Metric name used by analysis checks",
      pattern: NAME_PATTERN,
      maxLength: 63,
    }),
    header: Type.String({
      description: "Numeric response header tallied by the filter",
      pattern: HEADER_PATTERN,
    }),
  },
  "A numeric response header tallied per variant",
);

const Check = Obj(
  {
    name: Type.Optional(
      Type.String({ description: "Check name shown in status; default derived from the kind" }),
    ),
    sustainedFor: Type.Optional(Duration("Fail only when the threshold is exceeded this long")),
    failureRate: Type.Optional(
      Obj(
        {
          max: Type.Optional(
            Type.Number({ description: "Highest canary failure rate, percent", minimum: 0, maximum: 100 }),
          ),
          maxIncrease: Type.Optional(
            Type.Number({
              description: "Highest rise of the canary failure rate over stable, percentage points",
              minimum: 0,
              maximum: 100,
            }),
          ),
        },
        "Failure rate (5xx, no response, upstream failures, configured codes)",
      ),
    ),
    latency: Type.Optional(
      Obj(
        {
          quantile: Type.Number({
            description: "Latency quantile, 0.5 to 0.999",
            minimum: 0.5,
            maximum: 0.999,
          }),
          maxMs: Type.Optional(
            Type.Number({ description: "Highest canary latency at the quantile, ms", minimum: 0 }),
          ),
          maxRatio: Type.Optional(
            Type.Number({ description: "Highest canary/stable latency ratio at the quantile", minimum: 1 }),
          ),
        },
        "Latency at a quantile",
      ),
    ),
    metric: Type.Optional(
      Obj(
        {
          name: Type.String({
            description: "Name of a spec.metrics entry, or an llm-* metric when spec.llm is set",
            minLength: 1,
          }),
          maxRatio: Type.Optional(
            Type.Number({
              description:
                "Highest canary/stable ratio: without quantile, the canary's values above this many times stable's pre-step mean against stable's above it (a tail test; see maxMeanRatio); with quantile, of that quantile",
              exclusiveMinimum: 0,
            }),
          ),
          maxMeanRatio: Type.Optional(
            Type.Number({
              description:
                "Highest canary/stable ratio of the mean per request on the same traffic (e.g. 1.5: tokens per request > 150% of stable's fails)",
              exclusiveMinimum: 0,
            }),
          ),
          quantile: Type.Optional(
            Type.Number({
              description: "Compare this quantile with stable's instead of the mean (with maxRatio)",
              minimum: 0.5,
              maximum: 0.999,
            }),
          ),
          maxPerMinute: Type.Optional(
            Type.Number({ description: "Highest canary total per minute", exclusiveMinimum: 0 }),
          ),
          maxRate: Type.Optional(
            Type.Number({
              description:
                "Highest canary share of responses with the event, percent (a 0/1 metric such as llm-schema-failures; the failure-rate test)",
              minimum: 0,
              maximum: 100,
            }),
          ),
          maxRateRatio: Type.Optional(
            Type.Number({ description: "Highest canary/stable ratio of that share", exclusiveMinimum: 0 }),
          ),
        },
        "A custom response metric",
      ),
    ),
  },
  "One analysis check; exactly one of failureRate, latency, metric",
);

const Analysis = Obj(
  {
    alpha: Type.Optional(
      Type.Number({
        description: "False-rollback rate of the sequential tests",
        exclusiveMinimum: 0,
        maximum: 0.5,
        default: 0.01,
      }),
    ),
    minRequests: Type.Optional(
      Type.Integer({ description: "Requests per variant before any pass", minimum: 1, default: 100 }),
    ),
    minStepDuration: Type.Optional(Duration("Least time at each weight step", { default: "30s" })),
    blockDuration: Type.Optional(
      Duration(
        "Events closer together than this may share a cause (retries, a pod's burst, a GC pause); the tests count each block once. 0s: every request is independent (fastest, not robust to clusters)",
        { default: "10s" },
      ),
    ),
    rollbackOnSharedIncident: Type.Optional(
      Type.Boolean({
        description:
          "Roll back when the canary breaches an absolute ceiling that stable breached too in the same step (default: hold and say so)",
        default: false,
      }),
    ),
    maxStepDuration: Type.Optional(
      Duration("After this long with an inconclusive verdict, pause for approval instead of waiting on"),
    ),
    progressDeadline: Type.Optional(
      Duration(
        "A canary step serving traffic with no canary requests counted for this long ends (onProgressDeadline)",
        {
          default: "10m",
        },
      ),
    ),
    onProgressDeadline: Type.Optional(
      StringEnum(
        ["rollback", "pause"] as const,
        "At the progress deadline: roll back, or pause at 0% until resumed",
        {
          default: "rollback",
        },
      ),
    ),
    checks: Type.Optional(
      Type.Array(Check, {
        description: "Checks of canary against stable; default: failure rate no worse than stable",
      }),
    ),
  },
  "How canary is compared with stable",
  { default: {} },
);

const Webhook = Obj(
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

const Gate = Obj(
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

export const CanarySpecSchema = Obj(
  {
    host: Type.String({
      description: "Target host, e.g. reviews.default.svc.cluster.local",
      minLength: 1,
      maxLength: 253,
    }),
    virtualService: Type.Optional(
      Obj(
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
      ),
    ),
    httpRoute: Type.Optional(
      Obj(
        {
          name: Type.String({
            description:
              "Gateway API HTTPRoute routing the host (same namespace; parentRef a Service or Gateway)",
            minLength: 1,
            maxLength: 253,
          }),
          rule: Type.Optional(
            Type.String({ description: "Name of the rule to split when the HTTPRoute has several" }),
          ),
        },
        "The user's HTTPRoute (sidecar + Gateway API, or ambient waypoint); meshcanary adds meshcanary-* rules",
      ),
    ),
    stable: Subset("stable"),
    canary: Subset("canary"),
    strategy: Strategy,
    pins: Type.Optional(Pins),
    sticky: Type.Optional(Sticky),
    cohort: Type.Optional(
      Type.String({
        description: "Sticky hash salt shared by the canaries of one release; default the Canary",
      }),
    ),
    metrics: Type.Optional(
      Type.Array(Metric, { description: "Numeric response headers to tally", maxItems: 8 }),
    ),
    llm: Type.Optional(LlmSchema),
    analysis: Type.Optional(Analysis),
    webhooks: Type.Optional(Type.Array(Webhook, { description: "Notifications of phase changes" })),
    gates: Type.Optional(
      Type.Array(Gate, { description: "Gating webhooks that can hold or stop the rollout", maxItems: 16 }),
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

const Condition = Obj(
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

const CheckResult = Type.Object(
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

const Decision = Obj(
  {
    at: Type.String({ description: "RFC3339 time of the decision" }),
    action: Type.String({ description: "What the controller did, e.g. advance, hold, rollback" }),
    reason: Type.String({ description: "Why" }),
    checks: Type.Array(CheckResult, { description: "Per-check verdicts" }),
  },
  "The last rollout decision",
);

const Transition = Obj(
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

const CommandResult = Obj(
  {
    command: Type.String({ description: 'The annotation value handled, "<command>/<nonce>"' }),
    result: StringEnum(["Applied", "Refused", "Invalid"] as const, "Whether the command took effect"),
    message: Type.String({ description: "What the command did, or why it was refused" }),
    at: Type.String({ description: "RFC3339 time it was handled" }),
  },
  "Outcome of the last operator command",
);

const GateStatus = Obj(
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
    conditions: Type.Optional(Type.Array(Condition, { description: "Current conditions" })),
    lastDecision: Type.Optional(Decision),
    message: Type.Optional(Type.String({ description: "What the rollout is doing or waiting for" })),
    pausedBy: Type.Optional(
      StringEnum(
        ["approval", "manual", "gate"] as const,
        "Why the rollout is paused (gate: confirm-promotion gates hold the promotion)",
      ),
    ),
    history: Type.Optional(
      Type.Array(Transition, { description: "Recent transitions, newest last", maxItems: 20 }),
    ),
    analysisState: Type.Optional(Opaque("Analysis state to resume the sequential tests")),
    report: Type.Optional(Opaque("Comparison report of a finished A/B test")),
    lastCommand: Type.Optional(
      Type.String({ description: 'Last operator command handled, as "<command>/<nonce>"' }),
    ),
    commandResult: Type.Optional(CommandResult),
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
    gates: Type.Optional(Type.Array(GateStatus, { description: "Gating webhooks opened in this attempt" })),
  },
  "Observed state of the rollout",
);

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
export type CanaryStep = Static<typeof CanaryStep>;
export type Analysis = Static<typeof Analysis>;
export type Pins = Static<typeof Pins>;
export type AnalysisCheck = Static<typeof Check>;
export type Condition = Static<typeof Condition>;
export type CheckResult = Static<typeof CheckResult>;
export type Decision = Static<typeof Decision>;
export type Transition = Static<typeof Transition>;
export type CommandResult = Static<typeof CommandResult>;
export type Gate = Static<typeof Gate>;
export type GateStatus = Static<typeof GateStatus>;
export type Phase = (typeof PHASES)[number];
