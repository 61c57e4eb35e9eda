/**
 * What a rollout state wants from the VirtualService (MeshIntent), as a pure function of spec and
 * state: active with the state's weights while running; on Succeeded the target route goes 100% to
 * the canary subset; on RolledBack/Aborted the original route is restored (after `undo`: the target
 * route goes 100% to the stable subset); nothing before it starts.
 */
import type { MeshIntent } from "../mesh/types.js";
import { desiredRouting } from "../rollout/status.js";
import type { RolloutState } from "../rollout/types.js";
import type { SpecWithDefaults } from "../spec/defaults.js";
import { backendOf, routingTarget } from "../spec/routing-target.js";

/** The intent for a state, or undefined when the VirtualService is not to be touched (Initializing). */
export function meshIntentFor(
  canaryId: string,
  spec: SpecWithDefaults,
  state: RolloutState,
): MeshIntent | undefined {
  const target = routingTarget(spec);
  const base = {
    canary: canaryId,
    host: spec.host,
    ...(target.route !== undefined ? { routeName: target.route } : {}),
  };
  switch (state.phase) {
    case "Initializing":
      return undefined;
    case "Succeeded":
      // abTest ends on stable (0% canary): restore the original route rather than switch.
      return state.weightBp === 10000
        ? { ...base, weights: [], active: false, finalSubset: backendOf(spec.canary) }
        : { ...base, weights: [], active: false };
    case "RolledBack":
    case "Aborted":
      // After undo the route found at the start is the promoted one; stable is where traffic belongs.
      return state.undone
        ? { ...base, weights: [], active: false, finalSubset: backendOf(spec.stable) }
        : { ...base, weights: [], active: false };
    default: {
      const subsets = { stable: backendOf(spec.stable), canary: backendOf(spec.canary) };
      const weights = desiredRouting(state).variants.map((v) => ({
        variant: v.name,
        subset: subsets[v.name],
        weightBp: v.weightBp,
      }));
      // A VirtualService cannot check pin tokens, so pin routes exist only without them.
      const pins = spec.pins.requireToken
        ? undefined
        : { header: spec.pins.header, cookie: spec.pins.cookie };
      const marker = state.marker !== undefined ? { marker: state.marker } : {};
      const { mirrorBp } = desiredRouting(state);
      const mirror = mirrorBp > 0 ? { mirror: { from: "stable", subset: subsets.canary, bp: mirrorBp } } : {};
      return { ...base, weights, active: true, ...marker, ...(pins ? { pins } : {}), ...mirror };
    }
  }
}
