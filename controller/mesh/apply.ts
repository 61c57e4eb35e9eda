/**
 * applyMesh: read → plan → write only on change, with the read resourceVersion as precondition.
 * On a conflict (someone wrote in between) it re-reads and re-plans, so a concurrent writer's
 * edit to a route we do not own survives; the retries are bounded with backoff.
 */
import type { VirtualServiceStore } from "../kube/virtual-services.js";
import { planVirtualService } from "./plan-virtual-service.js";
import type { MeshConditionReason, MeshIntent } from "./types.js";

/** Which VirtualService to apply to. */
export interface VirtualServiceRef {
  namespace: string;
  name: string;
}

/** Result of one apply: written or already in place, or why not (a Canary condition reason). */
export type ApplyOutcome =
  | { written: boolean; resourceVersion: string }
  | {
      error: string;
      condition:
        | MeshConditionReason
        | "VirtualServiceNotFound"
        | "HTTPRouteNotFound"
        | "KubeError"
        | "ConflictRetriesExhausted";
    };

export interface ApplyOptions {
  /** Read-plan-write rounds before giving up on conflicts. */
  maxAttempts?: number;
  /** First backoff after a conflict; doubles each round. */
  backoffMs?: number;
  /** Check subsets against the DestinationRules (one extra list call). */
  checkSubsets?: boolean;
}

export async function applyMesh(
  store: VirtualServiceStore,
  ref: VirtualServiceRef,
  intent: MeshIntent,
  options: ApplyOptions = {},
): Promise<ApplyOutcome> {
  const maxAttempts = options.maxAttempts ?? 5;
  const backoffMs = options.backoffMs ?? 50;
  const where = `VirtualService ${ref.namespace}/${ref.name}`;
  let subsets: string[] | undefined;
  if (options.checkSubsets) {
    const listed = await store.listDestinationRuleSubsets(ref.namespace, intent.host);
    if (!listed.ok)
      return { error: `${where}: listing DestinationRules: ${listed.error.message}`, condition: "KubeError" };
    subsets = listed.value;
  }
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
    const read = await store.get(ref.namespace, ref.name);
    if (!read.ok) {
      const condition = read.error.reason === "NotFound" ? "VirtualServiceNotFound" : "KubeError";
      return { error: `${where}: ${read.error.message}`, condition };
    }
    const plan = planVirtualService(read.value, intent, { subsets });
    if ("error" in plan) return { error: `${where}: ${plan.error}`, condition: plan.condition };
    const observedVersion = read.value.metadata?.resourceVersion ?? "";
    if (!plan.changed) return { written: false, resourceVersion: observedVersion };
    const written = await store.replace(plan.vs);
    if (written.ok) return { written: true, resourceVersion: written.value.metadata?.resourceVersion ?? "" };
    if (written.error.reason !== "Conflict") {
      return { error: `${where}: ${written.error.message}`, condition: "KubeError" };
    }
  }
  return {
    error: `${where}: still conflicting after ${maxAttempts} attempts`,
    condition: "ConflictRetriesExhausted",
  };
}
