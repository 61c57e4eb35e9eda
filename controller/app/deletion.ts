/**
 * Deleting a Canary (spec.revertOnDeletion, default true): a finalizer holds the object until the
 * VirtualService is left as the rollout's end would leave it. Mid-rollout that is the original route
 * (as after a rollback); a finished rollout's own routing is kept; nothing was touched before it
 * started. Pure decisions; the reconciler carries them out.
 */
import type { MeshIntent } from "../mesh/types.js";
import type { RolloutState } from "../rollout/types.js";
import type { SpecWithDefaults } from "../spec/defaults.js";
import { meshIntentFor } from "./mesh-intent.js";

/** The finalizer meshcanary puts on Canaries that revert routing on deletion. */
export const REVERT_FINALIZER = "meshcanary.io/revert-routing";

/** The finalizer list a live Canary should have, or undefined when it already has it. */
export function finalizersWanted(finalizers: readonly string[], revert: boolean): string[] | undefined {
  const has = finalizers.includes(REVERT_FINALIZER);
  if (revert === has) return undefined;
  return revert ? [...finalizers, REVERT_FINALIZER] : finalizers.filter((f) => f !== REVERT_FINALIZER);
}

/** The VirtualService intent to apply before letting a deleted Canary go; undefined = leave it. */
export function deletionIntent(
  canaryId: string,
  spec: SpecWithDefaults,
  state: RolloutState,
): MeshIntent | undefined {
  const intent = meshIntentFor(canaryId, spec, state);
  if (intent === undefined || !intent.active) return intent;
  // A live split: restore the original route, exactly as RolledBack would.
  return meshIntentFor(canaryId, spec, { ...state, phase: "RolledBack" });
}
