/**
 * No single reporter decides (issue #14): a decisive verdict (pass or fail) stands only if it also
 * holds with any one reporter group's data left out. The groups are the reporters themselves while a
 * canary has at most REPORTER_GROUPS of them (telemetry/reporter-groups.ts). A forger's data can then
 * delay a decision the others' data support, not make one they do not: the run without the
 * forger's group must reach the same verdict on its own.
 * Each leave-one-out run is a fresh `evaluate` over the step's windows at the same alpha, so requiring
 * it as well can only remove verdicts: the false-verdict rate is at most the main analysis' alpha.
 * Pure: no clock, no I/O.
 */
import { addStats, emptyStats } from "../telemetry/windows.js";
import type { VariantStats, WindowPoint } from "../telemetry/types.js";
import { type AnalysisInput, type AnalysisResult, evaluate } from "./analyze.js";

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
 * `evaluate`, then the leave-one-out rule: a pass or fail with two or more reporter groups in the
 * windows is replaced by inconclusive (with the hold) when leaving any one group out gives another
 * verdict. `reporters` names each group's reporters for the reason. State is the pooled analysis'.
 */
export function evaluateRobust(
  input: AnalysisInput,
  previous: Parameters<typeof evaluate>[1],
  reporters: ReadonlyMap<number, string[]> = new Map(),
): RobustResult | Error {
  const main = evaluate(input, previous);
  if (main instanceof Error || main.verdict === "inconclusive") return main;
  const groups = groupsWithData(input.windows);
  if (groups.length < 2) return main;
  // The pooled run already held the verdict for sustainedFor; a fresh run would start that clock over.
  const checks = input.checks.map((c) => ({ ...c, sustainedForMs: 0 }));
  for (const g of groups) {
    const loo = evaluate(
      { ...input, checks, windows: withoutGroup(input.windows, g), baselines: main.state.baselines },
      undefined,
    );
    const without = loo instanceof Error ? "inconclusive" : loo.verdict;
    if (without !== main.verdict) {
      const hold = { verdict: main.verdict, group: g, reporters: reporters.get(g) ?? [], without };
      return { ...main, verdict: "inconclusive", reporterHold: hold };
    }
  }
  return main;
}

/** One line for status: which reporters a held verdict rested on. */
export function describeHold(h: ReporterHold): string {
  const who = h.reporters.length > 0 ? h.reporters.join(", ") : `reporter group ${h.group}`;
  return `${h.verdict} held: it rests on ${who}; without ${h.reporters.length === 1 ? "it" : "them"} the analysis is ${h.without} (no single reporter decides)`;
}
