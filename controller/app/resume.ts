/**
 * The I/O edge of resuming a rollout (resume-point.ts decides): reads the Canary's routing object
 * when the mesh could be ahead of status, and returns the state to resume from.
 */
import type { Logger } from "pino";
import type { CanaryObject } from "../kube/canaries.js";
import type { RolloutState } from "../rollout/types.js";
import type { SpecWithDefaults } from "../spec/defaults.js";
import { meshIntentFor } from "./mesh-intent.js";
import { adoptMeshPoint, aheadCandidates, resumePoint, weightInForce } from "./resume-point.js";
import { revisionOf } from "./revision.js";
import { idOf, type Runner } from "./runner.js";

/**
 * Status's state, unless the routing object (VirtualService or HTTPRoute) shows this rollout further
 * on. Without a readable one, status's; its own rules then apply.
 */
export async function resumeFromMesh(
  deps: { runner: Runner; logger: Logger },
  canary: CanaryObject,
  spec: SpecWithDefaults,
  restored: RolloutState,
  now: number,
): Promise<RolloutState> {
  const candidates = aheadCandidates(restored);
  if (candidates.length === 0) return restored;
  const id = idOf(canary);
  const routing = await deps.runner.readRouting(canary);
  if ("error" in routing) {
    deps.logger.warn(
      { canary: id, error: routing.error },
      "resume: routing object not read; resuming from status",
    );
    return restored;
  }
  const intents = candidates.flatMap((weightBp) => {
    const intent = meshIntentFor(id, spec, { ...restored, phase: "Progressing", weightBp });
    return intent ? [{ weightBp, intent }] : [];
  });
  const point = resumePoint(
    restored,
    revisionOf(spec, canary.metadata.annotations),
    weightInForce(routing, intents),
  );
  if (point.kind === "status") return restored;
  deps.logger.info(
    { canary: id, statusStep: restored.step, statusWeightBp: restored.weightBp, ...point },
    "resume: the routing object is ahead of status; resuming at its step",
  );
  return adoptMeshPoint(restored, point, now);
}
