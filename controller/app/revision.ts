/**
 * The revision a rollout is for. A change restarts the rollout (advance's `obs.revision`), so it
 * covers only what identifies the version being rolled out: host, VirtualService, the two subsets,
 * and the optional annotation `meshcanary.io/revision` (CI sets it, e.g. to an image digest, to
 * roll out a new build behind the same subset). Steps, analysis, pins and webhooks can be edited
 * mid-rollout without restarting it.
 */
import { createHash } from "node:crypto";
import { backendOf } from "../spec/routing-target.js";
import type { CanarySpec } from "../spec/schema.js";

/** Annotation that names the canary build; changing it restarts the rollout. */
export const REVISION_ANNOTATION = "meshcanary.io/revision";

export function revisionOf(spec: CanarySpec, annotations: Record<string, string> = {}): string {
  const identity = {
    host: spec.host,
    virtualService: spec.virtualService,
    // Only when set, so the revision of an existing VirtualService Canary stays what it was.
    ...(spec.httpRoute !== undefined ? { httpRoute: spec.httpRoute } : {}),
    stable: backendOf(spec.stable),
    canary: backendOf(spec.canary),
    build: annotations[REVISION_ANNOTATION] ?? null,
  };
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex").slice(0, 12);
}
