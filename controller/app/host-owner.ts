/** Which Canary a host belongs to when more than one names it: only one may split it. */
import type { CanaryStatus } from "../spec/schema.js";
import type { CanaryRecord } from "./reconcile-types.js";
import { idOf } from "./runner.js";

/**
 * The Canary ("<namespace>/<name>") that owns `host` when it is not `record`: of all Canaries
 * naming the host (any namespace, not being deleted), one whose rollout already started, then
 * the oldest, then the first by id (creation times have one-second resolution).
 */
export function hostOwner(
  records: Iterable<CanaryRecord>,
  record: CanaryRecord,
  host: string,
): string | undefined {
  const started = (r: CanaryRecord) => r.state !== undefined || (r.object.status as CanaryStatus)?.phase;
  const key = (r: CanaryRecord) =>
    `${started(r) ? 0 : 1} ${r.object.metadata.creationTimestamp ?? ""} ${idOf(r.object)}`;
  let owner = record;
  for (const r of records) {
    const other = (r.object.spec as { host?: unknown } | undefined)?.host;
    if (r === record || r.object.metadata.deletionTimestamp || typeof other !== "string") continue;
    if (other.toLowerCase() === host.toLowerCase() && key(r) < key(owner)) owner = r;
  }
  return owner === record ? undefined : idOf(owner.object);
}
