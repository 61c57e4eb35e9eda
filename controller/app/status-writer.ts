/** Writing a Canary's status: the rollout's at the status-cadence, and Ready=False for a spec it cannot run. */
import { statusFromState, rfc3339 } from "../rollout/status.js";
import type { CanaryStatus, Condition } from "../spec/schema.js";
import { statusExposure } from "./exposure.js";
import type { CanaryRecord, ReconcilerDeps, WrittenStatus } from "./reconcile-types.js";
import { idOf } from "./runner.js";
import { STATUS_CHECKPOINT_MS, statusWriteDue } from "./status-cadence.js";
import { mergePatch } from "./status-patch.js";
import { windowsIn } from "./step-series.js";

/** An LLM canary's share of requests, tokens and cost in the current step (figures: checkpoint cadence). */
function currentExposure(deps: ReconcilerDeps, record: CanaryRecord, now: number): CanaryStatus["exposure"] {
  const state = record.state;
  const llm = (record.object.spec as { llm?: unknown } | undefined)?.llm;
  if (!state || llm === undefined || state.stepStartedAt === undefined) return undefined;
  if (state.phase !== "Progressing" && state.phase !== "Paused") return undefined;
  const id = idOf(record.object);
  return statusExposure(windowsIn(deps.reader, id, state.stepStartedAt, now, record.stepSeries));
}

/** Writes status when status-cadence says it is due; announces every change either way. */
export async function persist(deps: ReconcilerDeps, record: CanaryRecord, now: number): Promise<void> {
  if (!record.state) return;
  const desired: WrittenStatus = { ...statusFromState(record.state) };
  const exposure = currentExposure(deps, record, now);
  if (exposure !== undefined) desired.exposure = exposure;
  if (record.lastCommand !== undefined) desired.lastCommand = record.lastCommand;
  if (record.commandResult !== undefined) desired.commandResult = record.commandResult;
  const announced = JSON.stringify(desired);
  if (announced !== record.announced) {
    record.announced = announced;
    deps.onStatusChanged?.(record);
  }
  const checkpoint = deps.statusCheckpointMs ?? STATUS_CHECKPOINT_MS;
  if (!statusWriteDue(record.written, desired, record.writtenAtMs, now, checkpoint)) return;
  const patch = mergePatch(record.written ?? {}, desired) as Record<string, unknown>;
  if (!(await deps.runner.writeStatus(record.object, patch))) return;
  record.written = desired;
  record.writtenAtMs = now;
}

/** Writes Ready=False with `reason` (InvalidSpec, Conflict) and one Warning event, once per message. */
export async function reportNotReady(
  deps: ReconcilerDeps,
  record: CanaryRecord,
  reason: string,
  message: string,
  now: number,
): Promise<void> {
  if (record.invalid === `${reason}: ${message}`) return;
  const status = (record.object.status ?? {}) as WrittenStatus;
  const ready: Condition = {
    type: "Ready",
    status: "False",
    reason,
    message,
    lastTransitionTime: rfc3339(now),
  };
  const conditions = [...(status.conditions ?? []).filter((c) => c.type !== "Ready"), ready];
  if (await deps.runner.writeStatus(record.object, { conditions })) {
    record.invalid = `${reason}: ${message}`;
    // Remember what status now holds, so the first write after the fix replaces the condition.
    if (record.written) record.written = { ...record.written, conditions };
    deps.onStatusChanged?.(record);
    await deps.runner.event(record.object, { type: "Warning", reason, message });
  }
}
