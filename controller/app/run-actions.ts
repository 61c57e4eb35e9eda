/** Carries out the state machine's actions for one Canary: routing, status, Events, webhooks. */
import type { WebhookTarget } from "../notify/webhooks.js";
import { rfc3339 } from "../rollout/status.js";
import type { Action } from "../rollout/types.js";
import type { CanaryRecord, ReconcilerDeps } from "./reconcile-types.js";
import type { RoutingPublisher } from "./routing-publisher.js";
import { idOf } from "./runner.js";
import { persist } from "./status-writer.js";

/** Runs `actions` in order (routing before status, so status never reports routing not yet done). */
export async function runActions(
  deps: ReconcilerDeps,
  routing: RoutingPublisher,
  record: CanaryRecord,
  actions: Action[],
  now: number,
): Promise<void> {
  const { object } = record;
  for (const action of actions) {
    switch (action.kind) {
      case "setWeights":
        deps.logger.info(
          {
            canary: idOf(object),
            version: action.version,
            variants: action.variants,
            reason: action.reason,
          },
          "set weights",
        );
        await routing.reconcile(record, now);
        break;
      case "writeStatus":
        // Status reports routing as done, so the mesh goes first (e.g. RolledBack after the restore).
        await routing.reconcile(record, now);
        await persist(deps, record, now);
        break;
      case "event":
        await deps.runner.event(object, action);
        break;
      case "webhook":
        deps.runner.webhook((record.spec?.webhooks ?? []) as WebhookTarget[], {
          canary: idOf(object),
          namespace: object.metadata.namespace,
          name: object.metadata.name,
          event: action.event,
          step: action.step,
          canaryWeight: action.canaryWeight,
          message: action.message,
          at: rfc3339(now),
        });
        break;
      case "commandHandled":
        record.commandResult = {
          command: record.lastCommand ?? action.command,
          result: action.applied ? "Applied" : "Refused",
          message: action.message,
          at: rfc3339(now),
        };
        break;
      case "resetAnalysis":
        deps.logger.info(
          { canary: idOf(object), step: action.step, reason: action.reason },
          "analysis restarts",
        );
        break;
    }
  }
}
