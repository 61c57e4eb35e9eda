/**
 * applyHttpRoute: read → planHttpRoute → write only on change, with the read resourceVersion as the
 * precondition; on a conflict it re-reads and re-plans (bounded, with backoff), so a concurrent
 * writer's edit to a rule we do not own survives. The outcome is the one applyMesh reports.
 */
import type { HttpRouteStore } from "../kube/http-routes.js";
import type { ApplyOptions, ApplyOutcome, VirtualServiceRef } from "./apply.js";
import { planHttpRoute } from "./plan-http-route.js";
import type { MeshIntent } from "./types.js";

export async function applyHttpRoute(
  store: HttpRouteStore,
  ref: VirtualServiceRef,
  intent: MeshIntent,
  options: Pick<ApplyOptions, "maxAttempts" | "backoffMs"> = {},
): Promise<ApplyOutcome> {
  const maxAttempts = options.maxAttempts ?? 5;
  const backoffMs = options.backoffMs ?? 50;
  const where = `HTTPRoute ${ref.namespace}/${ref.name}`;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
    const read = await store.get(ref.namespace, ref.name);
    if (!read.ok) {
      const condition = read.error.reason === "NotFound" ? "HTTPRouteNotFound" : "KubeError";
      return { error: `${where}: ${read.error.message}`, condition };
    }
    const plan = planHttpRoute(read.value, intent);
    if ("error" in plan) return { error: `${where}: ${plan.error}`, condition: plan.condition };
    const observedVersion = read.value.metadata?.resourceVersion ?? "";
    if (!plan.changed) return { written: false, resourceVersion: observedVersion };
    const written = await store.replace(plan.route);
    if (written.ok) return { written: true, resourceVersion: written.value.metadata?.resourceVersion ?? "" };
    if (written.error.reason !== "Conflict")
      return { error: `${where}: ${written.error.message}`, condition: "KubeError" };
  }
  return {
    error: `${where}: still conflicting after ${maxAttempts} attempts`,
    condition: "ConflictRetriesExhausted",
  };
}
