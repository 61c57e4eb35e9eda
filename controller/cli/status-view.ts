/**
 * A Canary as `meshcanary status` shows it: what its status says, with the step count and subsets
 * from its spec. Pure; the same object is printed as a tree (format-status.ts) or as JSON/YAML.
 */
import { COMMAND_ANNOTATION, type CanaryObject } from "../kube/canaries.js";
import { planRollout } from "../rollout/plan.js";
import type {
  CanaryStatus,
  CheckResult,
  CommandResult,
  Condition,
  GateStatus,
  Phase,
  Transition,
} from "../spec/schema.js";
import { withDefaults } from "../spec/defaults.js";
import { backendOf } from "../spec/routing-target.js";
import { validateCanary } from "../spec/validate.js";

/** History entries shown; the status keeps up to 20. */
export const RECENT_HISTORY = 5;

/** One variant's traffic share. */
export interface VariantShare {
  variant: "stable" | "canary";
  /** DestinationRule subset, when the spec is valid. */
  subset?: string;
  weightBp: number;
}

/** The last decision with its per-check results. */
export interface DecisionView {
  at: string;
  action: string;
  reason: string;
  checks: CheckResult[];
}

/** One step of the plan as `status` lists it. */
export interface StepView {
  /** Canary weight, basis points. */
  weightBp: number;
  /** What completes the step after its hold time: analysis, approval or time. */
  gate: string;
  /** Least time at the weight, ms. */
  holdMs: number;
  /** Where the rollout stands relative to this step. */
  state: "done" | "current" | "pending";
}

/** Everything `status` prints for one Canary. */
export interface StatusView {
  name: string;
  namespace: string;
  host?: string;
  strategy?: string;
  phase: Phase;
  pausedBy?: "approval" | "manual" | "gate";
  /** Current step, 1-based (0 before the first step). */
  step: number;
  /** Number of steps in the plan; absent when the spec is invalid. */
  steps?: number;
  weights: VariantShare[];
  message: string;
  conditions: Condition[];
  lastDecision?: DecisionView;
  /** The newest RECENT_HISTORY transitions, oldest first. */
  history: Transition[];
  /** A command annotation the controller has not handled yet. */
  pendingCommand?: string;
  /** Validation errors of the spec ("path: message"); the controller will not run it. */
  specErrors?: string[];
  /** The plan's steps with the current one marked; absent when the spec is invalid. */
  plan?: StepView[];
  /** When the current step's weights were confirmed in force (RFC3339). */
  stepStartedAt?: string;
  /** The last operator command the controller handled and what came of it. */
  commandResult?: CommandResult;
  /** Evidence (e-value) at which a check fails and the rollout rolls back: 1/α. */
  rollbackAt?: number;
  /** Gating webhooks opened in this attempt and their last answers. */
  gates?: GateStatus[];
  /** An LLM canary's share of requests, tokens and cost in the current step, percent. */
  exposure?: CanaryStatus["exposure"];
}

export function statusView(canary: CanaryObject): StatusView {
  const status = (canary.status ?? {}) as CanaryStatus;
  const { status: _ignored, ...withoutStatus } = canary;
  const checked = validateCanary(withoutStatus);
  const spec = checked.ok ? checked.canary.spec : undefined;
  const plan = spec ? planRollout(spec) : undefined;
  const weightBp = status.weightBp ?? 0;
  const annotation = canary.metadata.annotations?.[COMMAND_ANNOTATION];
  const started = status.phase !== undefined && status.phase !== "Initializing";
  return dropUndefined({
    name: canary.metadata.name,
    namespace: canary.metadata.namespace,
    host: spec?.host,
    strategy: plan?.strategy,
    phase: status.phase ?? "Initializing",
    pausedBy: status.phase === "Paused" ? status.pausedBy : undefined,
    step: started ? (status.step ?? 0) + 1 : 0,
    steps: plan?.steps.length,
    weights: [
      dropUndefined({
        variant: "stable" as const,
        subset: spec ? backendOf(spec.stable) : undefined,
        weightBp: 10000 - weightBp,
      }),
      dropUndefined({
        variant: "canary" as const,
        subset: spec ? backendOf(spec.canary) : undefined,
        weightBp,
      }),
    ],
    message: status.message ?? plan?.unsupported ?? "",
    conditions: status.conditions ?? [],
    lastDecision: status.lastDecision,
    history: (status.history ?? []).slice(-RECENT_HISTORY),
    pendingCommand: annotation !== undefined && annotation !== status.lastCommand ? annotation : undefined,
    specErrors: checked.ok ? undefined : checked.errors.map((e) => `${e.path}: ${e.message}`),
    plan: plan?.steps.map((step, i) => ({ ...step, state: stepState(status, i) })),
    stepStartedAt: status.stepStartedAt,
    gates: status.gates,
    exposure: status.exposure,
    commandResult: status.commandResult,
    rollbackAt: spec ? 1 / withDefaults(spec).analysis.alpha : undefined,
  });
}

function stepState(status: CanaryStatus, index: number): StepView["state"] {
  const phase = status.phase ?? "Initializing";
  const at = status.step ?? 0;
  if (phase === "Initializing") return "pending";
  if (phase === "Promoting" || (phase === "Succeeded" && (status.weightBp ?? 0) === 10000)) return "done";
  if (index < at) return "done";
  return index === at && (phase === "Progressing" || phase === "Paused") ? "current" : "pending";
}

/** Optional fields are absent rather than undefined, so JSON/YAML output and comparisons stay clean. */
function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
