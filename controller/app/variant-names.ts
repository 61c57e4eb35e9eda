/**
 * The variant names the filter tallies under, and which one a step compares with stable: shared by
 * the step analysis and the routing table (which asks the filter for counts the analysis judges).
 */
import { mirrorBpOf } from "../rollout/status.js";
import type { RolloutState } from "../rollout/types.js";

/** Variant names the filter writes; fixed by the rollout module. */
export const STABLE = "stable";
export const CANARY = "canary";

/** Variant name of the mirrored copies, as tallied on the receiving side. */
export const SHADOW_VARIANT = "shadow";

/** The variant compared with stable at the state's step: the mirrored copies at a shadow step. */
export function comparedVariant(state: RolloutState): string {
  return mirrorBpOf(state) > 0 ? SHADOW_VARIANT : CANARY;
}
