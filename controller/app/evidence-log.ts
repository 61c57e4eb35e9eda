/**
 * Each check's evidence (e-value) over time, per Canary, for the dashboard: the leader records every
 * analysis it runs. Memory is bounded: past `maxPoints` a Canary's older half is thinned to every
 * other point, so a long rollout keeps its whole span at a coarser step.
 */
import type { EvidenceView } from "../api/types.js";
import type { AnalysisResult } from "../rollout/types.js";

interface EvidencePoint {
  t: number;
  step: number;
  e: Record<string, number>;
}

interface CanaryEvidence {
  rollbackAt?: number;
  points: EvidencePoint[];
}

export class EvidenceLog {
  private readonly byCanary = new Map<string, CanaryEvidence>();

  /** maxPoints: points kept per Canary (at least 2). */
  constructor(private readonly maxPoints = 600) {}

  /** Records the e-values of one analysis of `step` at time t (Unix ms); checks without one are left out. */
  record(id: string, t: number, step: number, analysis: AnalysisResult): void {
    const e: Record<string, number> = {};
    for (const c of analysis.checks) {
      const v = (c as { eValue?: unknown }).eValue;
      if (typeof v === "number" && Number.isFinite(v)) e[c.name] = v;
    }
    if (Object.keys(e).length === 0) return;
    let log = this.byCanary.get(id);
    if (!log) {
      log = { points: [] };
      this.byCanary.set(id, log);
    }
    if (analysis.rollbackAt !== undefined) log.rollbackAt = analysis.rollbackAt;
    const last = log.points.at(-1);
    // Time runs forward: an analysis of the same or an older moment replaces nothing.
    if (last !== undefined && t <= last.t) return;
    log.points.push({ t, step, e });
    if (log.points.length > Math.max(2, this.maxPoints)) log.points = thinOlderHalf(log.points);
  }

  /** The Canary's points from sinceMs on. */
  view(id: string, sinceMs: number): EvidenceView {
    const log = this.byCanary.get(id);
    const points = (log?.points ?? []).filter((p) => p.t >= sinceMs);
    return { ...(log?.rollbackAt !== undefined ? { rollbackAt: log.rollbackAt } : {}), points };
  }

  remove(id: string): void {
    this.byCanary.delete(id);
  }
}

/** Every other point of the older half, then the newer half whole. */
function thinOlderHalf(points: EvidencePoint[]): EvidencePoint[] {
  const half = Math.floor(points.length / 2);
  return [...points.slice(0, half).filter((_, i) => i % 2 === 0), ...points.slice(half)];
}
