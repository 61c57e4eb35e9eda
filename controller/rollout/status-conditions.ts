/** The rollout's status.conditions: VirtualServiceReady, AnalysisPassing, SampleRatioMismatch, Ready. */
import type { Condition } from "../spec/schema.js";
import { rfc3339 } from "./status.js";
import type { Tick } from "./tick.js";
import type { RolloutState } from "./types.js";

/** Sets the conditions the observation speaks to: the mesh and the analysis. */
export function observeConditions(t: Tick): void {
  const mesh = t.obs.meshReady;
  if (mesh !== undefined) {
    const missing = mesh === true ? "" : mesh.missing.join(", ");
    setCondition(t, {
      type: "VirtualServiceReady",
      ...(mesh === true ? { status: "True", reason: "Ready" } : { status: "False", reason: "Missing" }),
      message: mesh === true ? "VirtualService and subsets present" : `missing ${missing}`,
    });
  }
  const analysis = t.obs.analysis;
  if (analysis !== undefined) {
    if (analysis.state !== undefined) t.s.analysisState = analysis.state;
    const status = analysis.verdict === "pass" ? "True" : analysis.verdict === "fail" ? "False" : "Unknown";
    const reason = { pass: "Pass", fail: "Fail", inconclusive: "Inconclusive" }[analysis.verdict];
    setCondition(t, { type: "AnalysisPassing", status, reason, message: analysis.reason });
    const srm = analysis.sampleRatioMismatch;
    // Added on the first mismatch; afterwards kept and flipped to False once the share matches.
    if (srm || t.s.conditions.some((c) => c.type === "SampleRatioMismatch"))
      setCondition(t, {
        type: "SampleRatioMismatch",
        ...(srm
          ? { status: "True", reason: "SampleRatioMismatch", message: `${srm}; no pass until it matches` }
          : {
              status: "False",
              reason: "ShareMatchesWeight",
              message: "canary share of requests consistent with its weight",
            }),
      });
  }
}

/** The Ready condition a phase implies. */
export function readyCondition(s: RolloutState): Omit<Condition, "lastTransitionTime"> {
  const message = s.message;
  switch (s.phase) {
    case "Initializing":
      return {
        type: "Ready",
        status: "False",
        reason: s.plan.unsupported ? "StrategyNotSupported" : "Initializing",
        message,
      };
    case "RollingBack":
    case "RolledBack":
    case "Aborted":
      return { type: "Ready", status: "False", reason: s.phase, message };
    default:
      return { type: "Ready", status: "True", reason: s.phase, message };
  }
}

/** Sets a condition; lastTransitionTime changes only when its status does. */
export function setCondition(t: Tick, next: Omit<Condition, "lastTransitionTime">): void {
  const current = t.s.conditions.find((c) => c.type === next.type);
  const since =
    current !== undefined && current.status === next.status ? current.lastTransitionTime : rfc3339(t.now);
  const condition = { ...next, lastTransitionTime: since };
  const others = t.s.conditions.filter((c) => c.type !== next.type);
  t.s.conditions = [...others, condition].sort((a, b) => a.type.localeCompare(b.type));
}
