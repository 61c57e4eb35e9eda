/**
 * The revert finalizer: kept on a Canary to match spec.revertOnDeletion, and carried out when the
 * Canary is deleted (the VirtualService left as the rollout's end would leave it).
 */
import type { EventNote } from "../kube/events.js";
import type { MeshIntent } from "../mesh/types.js";
import { planRollout } from "../rollout/plan.js";
import { stateFromStatus } from "../rollout/status.js";
import type { SpecWithDefaults } from "../spec/defaults.js";
import type { CanaryStatus } from "../spec/schema.js";
import { deletionIntent, finalizersWanted, REVERT_FINALIZER } from "./deletion.js";
import type { CanaryRecord, ReconcilerDeps } from "./reconcile-types.js";
import type { RoutingPublisher } from "./routing-publisher.js";
import { idOf } from "./runner.js";

/** Adds or removes the revert finalizer to match spec.revertOnDeletion, once per object version. */
export async function keepFinalizer(
  deps: ReconcilerDeps,
  record: CanaryRecord,
  spec: SpecWithDefaults,
): Promise<void> {
  const { object } = record;
  const wanted = finalizersWanted(object.metadata.finalizers ?? [], spec.revertOnDeletion !== false);
  if (wanted === undefined || record.finalizersAskedAt === object.metadata.resourceVersion) return;
  record.finalizersAskedAt = object.metadata.resourceVersion;
  await deps.runner.setFinalizers(object, wanted);
}

/**
 * A deleted Canary holding our finalizer: leaves the VirtualService as the rollout's end would,
 * then releases the object. A failure the API may recover from keeps the finalizer for the next
 * tick; one it cannot (VirtualService gone, route edited by someone else) is reported and released.
 */
export async function finalize(
  deps: ReconcilerDeps,
  routing: RoutingPublisher,
  record: CanaryRecord,
  spec: SpecWithDefaults | undefined,
  now: number,
): Promise<void> {
  const { object } = record;
  const finalizers = object.metadata.finalizers ?? [];
  if (!finalizers.includes(REVERT_FINALIZER) || record.finalizersAskedAt === object.metadata.resourceVersion)
    return;
  const state = spec && (record.state ?? stateFromStatus(planRollout(spec), object.status as CanaryStatus));
  const intent = spec && state && deletionIntent(idOf(object), spec, state);
  let note: EventNote = {
    type: "Normal",
    reason: "RoutingKept",
    message: "deleted; VirtualService left as is",
  };
  if (!leftEveryFilter(routing, record, now)) return;
  if (intent) {
    const outcome = await deps.runner.applyMesh(object, intent);
    if ("error" in outcome && ["KubeError", "ConflictRetriesExhausted"].includes(outcome.condition)) {
      deps.logger.warn({ canary: idOf(object), error: outcome.error }, "revert on deletion: will retry");
      return;
    }
    note =
      "error" in outcome
        ? {
            type: "Warning",
            reason: "RevertFailed",
            message: `deleted; routing not reverted: ${outcome.error}`,
          }
        : deletionNote(intent);
  }
  record.finalizersAskedAt = object.metadata.resourceVersion;
  const rest = finalizers.filter((f) => f !== REVERT_FINALIZER);
  if (!(await deps.runner.setFinalizers(object, rest))) {
    record.finalizersAskedAt = undefined;
    return;
  }
  await deps.runner.event(object, note);
  // Out of the filters' table now; the informer's delete event drops the record.
  Object.assign(record, { spec: undefined, state: undefined });
  routing.publish(now);
}

/**
 * Whether every live filter applied a table without this (deleted) canary, or the propagation
 * timeout passed since that table went out. Until then the object stays: a Canary gone from the API
 * while proxies still decide by its route would have its requests marked, and tallied, as its
 * variants after a new Canary for the same host exists (test/mesh-e2e counted 3 of a Canary's
 * requests fewer than its upstream served: marked by the deleted predecessor's route).
 */
function leftEveryFilter(routing: RoutingPublisher, record: CanaryRecord, now: number): boolean {
  // routeSources leaves out every Canary being deleted.
  const version = routing.publish(now);
  record.leaving ??= { version, atMs: now };
  return routing.everyFilterOn(record.leaving.version, record.leaving.atMs, now);
}

function deletionNote(intent: MeshIntent): EventNote {
  return intent.finalSubset !== undefined
    ? {
        type: "Normal",
        reason: "RoutingKept",
        message: `deleted; VirtualService kept on subset ${intent.finalSubset}`,
      }
    : {
        type: "Normal",
        reason: "RoutingRestored",
        message: "deleted; VirtualService restored to its original route",
      };
}
