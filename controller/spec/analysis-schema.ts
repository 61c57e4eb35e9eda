/**
 * The analysis sections of the Canary spec: the custom response metrics the filter tallies
 * (spec.metrics) and how canary is compared with stable (spec.analysis and its checks). Separate
 * because these fields feed the statistics (controller/analysis), not routing or the strategy.
 */
import { Type } from "@sinclair/typebox";
import { Duration, HEADER_PATTERN, NAME_PATTERN, Obj, StringEnum } from "./schema-builders.js";

/** One spec.metrics entry. */
export const MetricSchema = Obj(
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

/** One spec.analysis.checks entry. */
export const CheckSchema = Obj(
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

/** spec.analysis: the sequential tests' parameters and the checks. */
export const AnalysisSchema = Obj(
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
      Type.Array(CheckSchema, {
        description: "Checks of canary against stable; default: failure rate no worse than stable",
      }),
    ),
  },
  "How canary is compared with stable",
  { default: {} },
);
