/**
 * The strategy section of the Canary spec: canary weight steps, blue-green, A/B test or shadow.
 * Separate because it alone says how the weight moves; analysis decides whether it may.
 */
import { Type } from "@sinclair/typebox";
import { Duration, Obj } from "./schema-builders.js";

/** One weight step, used by canary.steps and shadow.canarySteps (crd.ts copies each use: no YAML aliases). */
export const CanaryStepSchema = Obj(
  {
    weight: Type.Number({
      description: "Percent of traffic to the canary, 0.01 (one basis point) to 100",
      minimum: 0.01,
      maximum: 100,
    }),
    pause: Type.Optional(
      Obj({ duration: Type.Optional(Duration("Least time to stay at this weight")) }, "Hold at this weight"),
    ),
    approval: Type.Optional(
      Type.Boolean({ description: "Wait for `meshcanary approve` before leaving this step" }),
    ),
  },
  "One weight step",
);

/** spec.strategy: exactly one way of moving traffic to the canary. */
export const StrategySchema = Obj(
  {
    canary: Type.Optional(
      Obj(
        { steps: Type.Array(CanaryStepSchema, { description: "Weight steps, non-decreasing", minItems: 1 }) },
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
            Type.Array(CanaryStepSchema, {
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
