/**
 * No single reporter decides (issue #14): a decisive verdict (pass or fail) stands only if it also
 * holds with any one reporter group's data left out. The groups are the reporters themselves while a
 * canary has at most REPORTER_GROUPS of them (telemetry/reporter-groups.ts). A forger's data can then
 * delay a decision the others' data support, not make one they do not: the analysis without the
 * forger's group must reach the same verdict on its own.
 * Each leave-one-out analysis runs beside the pooled one at the same alpha, window by window, with
 * its state kept in the pooled state (`leaveOneOut`), so a tick costs one window per group and a
 * restart resumes them. Requiring them as well can only remove verdicts: the false-verdict rate is
 * at most the pooled analysis' alpha. Pure: no clock, no I/O.
 */
import type { VariantStats, WindowPoint } from "../telemetry/types.js";
import { addStats, emptyStats } from "../telemetry/windows.js";
import { type AnalysisInput, type AnalysisResult, type AnalysisState, evaluate } from "./analyze.js";

/** Why a decisive verdict was held: it rests on one reporter group. */
export interface ReporterHold {
  /** The verdict the pooled data reached. */
  verdict: "pass" | "fail";
  /** The group whose absence changes it, and its reporters when known. */
  group: number;
  reporters: string[];
  /** The verdict without that group. */
  without: AnalysisResult["verdict"];
}

/** An analysis result, with the hold when the verdict rested on one reporter group. */
export type RobustResult = AnalysisResult & { reporterHold?: ReporterHold };

/** Groups that carried any request in these windows, ascending. */
export function groupsWithData(windows: readonly WindowPoint[]): number[] {
  const seen = new Set<number>();
  for (const w of windows) {
    for (const [g, variants] of w.groups ?? []) {
      for (const s of variants.values()) if (s.requests > 0) seen.add(g);
    }
  }
  return [...seen].sort((a, b) => a - b);
}

/** The windows with group `left`'s data taken out (windows not split by group are kept whole). */
export function withoutGroup(windows: readonly WindowPoint[], left: number): WindowPoint[] {
  return windows.map((w) => {
    if (!w.groups?.has(left)) return w;
    const variants = new Map<string, VariantStats>();
    for (const [g, byVariant] of w.groups) {
      if (g === left) continue;
      for (const [name, stats] of byVariant) {
        let sum = variants.get(name);
        if (!sum) {
          sum = emptyStats();
          variants.set(name, sum);
        }
        addStats(sum, stats);
      }
    }
    return { startMs: w.startMs, variants };
  });
}

/**
 * Groups that alone carried one of `variants`' requests in these windows. Without such a group there
 * is nothing to compare, so its leave-one-out verdict says nothing about trust and cannot hold the
 * pooled one: a shadow's receiving side is the only reporter of the mirrored copies, and a 0% step
 * may reach the canary through one tester's proxy only. A forger is never one while honest
 * reporters see the same variant.
 */
export function soleCarriers(windows: readonly WindowPoint[], variants: readonly string[]): Set<number> {
  const sole = new Set<number>();
  for (const v of variants) {
    const carriers = new Set<number>();
    for (const w of windows) {
      for (const [g, byVariant] of w.groups ?? []) if ((byVariant.get(v)?.requests ?? 0) > 0) carriers.add(g);
    }
    if (carriers.size === 1) for (const g of carriers) sole.add(g);
  }
  return sole;
}

/**
 * The leave-one-out states to continue from: those kept, plus, for a group first seen in `fresh`,
 * the pooled state before it (the group had no data in what that state consumed). A pooled state
 * kept without them (an older controller's) cannot be split after the fact: they start over.
 */
function previousStates(
  pooled: AnalysisState | undefined,
  fresh: readonly WindowPoint[],
): Map<number, AnalysisState | undefined> {
  const kept = pooled?.leaveOneOut;
  const startOver = pooled !== undefined && pooled.lastWindowMs !== null && kept === undefined;
  const out = new Map<number, AnalysisState | undefined>();
  for (const [g, s] of Object.entries(kept ?? {})) out.set(Number(g), s);
  for (const g of groupsWithData(fresh)) {
    if (!out.has(g)) out.set(g, startOver ? undefined : withoutLeaveOneOut(pooled));
  }
  return out;
}

function withoutLeaveOneOut(s: AnalysisState | undefined): AnalysisState | undefined {
  if (!s) return s;
  const { leaveOneOut: _, ...rest } = s;
  return rest;
}

/**
 * `evaluate`, plus one analysis per reporter group without that group. A pass or fail with two or
 * more groups seen in the step is replaced by inconclusive (with the hold) when any of them reaches
 * another verdict. `reporters` names each group's reporters for the reason.
 */
export function evaluateRobust(
  input: AnalysisInput,
  previous: AnalysisState | undefined,
  reporters: ReadonlyMap<number, string[]> = new Map(),
): RobustResult | Error {
  const pooledBefore = previous?.version === 2 ? previous : undefined;
  const main = evaluate(input, withoutLeaveOneOut(pooledBefore));
  if (main instanceof Error) return main;
  const last = pooledBefore?.lastWindowMs ?? null;
  const fresh = input.windows.filter((w) => last === null || w.startMs > last);
  const states = previousStates(pooledBefore, fresh);
  if (states.size === 0) return main;
  // The pooled run already holds a verdict for sustainedFor; these only have to agree with it.
  const checks = input.checks.map((c) => ({ ...c, sustainedForMs: 0 }));
  const leaveOneOut: Record<string, AnalysisState> = {};
  const sole = soleCarriers(input.windows, [input.canaryVariant, input.stableVariant]);
  let hold: ReporterHold | undefined;
  for (const [g, before] of states) {
    const windows = before === undefined ? input.windows : fresh;
    const loo = evaluate(
      { ...input, checks, windows: withoutGroup(windows, g), baselines: main.state.baselines },
      before,
    );
    if (loo instanceof Error) return loo;
    leaveOneOut[g] = loo.state;
    if (sole.has(g)) continue;
    if (!hold && main.verdict !== "inconclusive" && states.size >= 2 && loo.verdict !== main.verdict)
      hold = { verdict: main.verdict, group: g, reporters: reporters.get(g) ?? [], without: loo.verdict };
  }
  const state = { ...main.state, leaveOneOut };
  return hold ? { ...main, verdict: "inconclusive", state, reporterHold: hold } : { ...main, state };
}

/** One line for status: which reporters a held verdict rested on. */
export function describeHold(h: ReporterHold): string {
  const who = h.reporters.length > 0 ? h.reporters.join(", ") : `reporter group ${h.group}`;
  const them = h.reporters.length === 1 ? "it" : "them";
  return `${h.verdict} held: it rests on ${who}; without ${them} the analysis is ${h.without} (no single reporter decides)`;
}
