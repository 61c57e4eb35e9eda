/**
 * What the API shows of a Canary the reconciler knows: its status (the leader's in-memory state, or
 * the status the informer last saw on a follower) and spec, as the API's view types. Pure.
 */
import type { CanaryDetail, CanarySummary, CheckView, DecisionView, TimelineEntry } from "../api/types.js";
import { planRollout } from "../rollout/plan.js";
import { commandsView, gatesView, planView } from "./api-plan-views.js";
import { statusFromState } from "../rollout/status.js";
import { type SpecWithDefaults, withDefaults } from "../spec/defaults.js";
import { routingTarget } from "../spec/routing-target.js";
import type { CanarySpec, CanaryStatus, CheckResult, Decision } from "../spec/schema.js";
import { LLM_METRICS } from "../spec/llm-schema.js";
import { validateCanary } from "../spec/validate.js";
import type { CanaryRecord } from "./reconciler.js";

/**
 * The status a record stands for: the rollout state when this replica reconciles it, else (a
 * follower, or an invalid spec whose condition the state does not hold) the object's.
 */
export function statusOf(record: CanaryRecord): CanaryStatus {
  if (record.state && record.invalid === undefined) return statusFromState(record.state);
  return (record.object.status ?? {}) as CanaryStatus;
}

/** The record's spec with defaults, or undefined when it is invalid. */
export function specOf(record: CanaryRecord): SpecWithDefaults | undefined {
  if (record.spec) return record.spec;
  const { apiVersion, kind, metadata, spec } = record.object;
  const checked = validateCanary({ apiVersion, kind, metadata, spec });
  return checked.ok ? withDefaults(checked.canary.spec as CanarySpec) : undefined;
}

export function summaryOf(record: CanaryRecord): CanarySummary {
  const status = statusOf(record);
  const spec = specOf(record);
  const bp = status.weightBp ?? 0;
  const ready = status.conditions?.find((c) => c.type === "Ready");
  const summary: CanarySummary = {
    namespace: record.object.metadata.namespace,
    name: record.object.metadata.name,
    phase: status.phase ?? "Initializing",
    step: status.step ?? 0,
    stepCount: spec ? planRollout(spec).steps.length : 0,
    canaryWeight: bp / 100,
    weightBp: { stable: 10000 - bp, canary: bp },
    // An invalid spec has no rollout message; its Ready condition says what is wrong.
    message: status.message || ready?.message || "",
    conditions: status.conditions ?? [],
  };
  if (status.lastDecision) summary.lastDecision = decisionView(status.lastDecision);
  return summary;
}

export function detailOf(record: CanaryRecord): CanaryDetail {
  const status = statusOf(record);
  const spec = specOf(record);
  const timeline: TimelineEntry[] = (status.history ?? []).map((h) => ({
    at: h.at,
    phase: h.to,
    step: h.step,
    weight: h.weightBp / 100,
    reason: h.reason,
  }));
  const raw = (record.object.spec ?? {}) as { host?: unknown; virtualService?: { name?: unknown } };
  const created = record.object.metadata.creationTimestamp;
  return {
    ...summaryOf(record),
    timeline,
    ...(status.report ? { report: status.report } : {}),
    ...(created ? { createdAt: created } : {}),
    ...(status.stepStartedAt ? { stepStartedAt: status.stepStartedAt } : {}),
    ...(spec ? { plan: planView(planRollout(spec)), gates: gatesView(spec, status) } : {}),
    commands: commandsView(status),
    spec: {
      host: spec?.host ?? String(raw.host ?? ""),
      virtualService: spec ? routingTarget(spec).name : String(raw.virtualService?.name ?? ""),
      stepWeights: spec ? planRollout(spec).steps.map((s) => s.weightBp / 100) : [],
      checks: spec ? spec.analysis.checks.map((c) => c.name ?? "") : [],
      metrics: [...(spec?.metrics?.map((m) => m.name) ?? []), ...(spec?.llm ? LLM_METRICS : [])],
      ...(spec?.llm ? { llm: true } : {}),
    },
  };
}

export function decisionView(d: Decision): DecisionView {
  return { at: d.at, action: d.action, reason: d.reason, checks: d.checks.map(checkView) };
}

/** Status keeps a check's figures as free-form fields (preserve-unknown-fields); take only numbers. */
function checkView(c: CheckResult): CheckView {
  const view: CheckView = { name: c.name, verdict: c.verdict, reason: c.message ?? "" };
  const extra = c as Record<string, unknown>;
  for (const key of ["value", "threshold", "eValue", "rollbackAt"] as const) {
    const v = extra[key];
    if (typeof v === "number" && Number.isFinite(v)) view[key] = v;
  }
  return view;
}
