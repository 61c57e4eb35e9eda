/**
 * The demo's terminal output as pure functions from state to lines: the checks up front, a live
 * block per scenario (redrawn in place on a TTY), one line per timeline event (appended otherwise:
 * CI and tests are not TTYs; a decision and the transition it caused are one line) and the closing
 * summary table. Every scenario is timed on one clock (the demo's first Canary applied), and event
 * lines fit LINE_WIDTH columns: figures of passing checks are dropped first, a failing check's last.
 */
import { checkFigures } from "../../controller/cli/format-status.js";
import type { Analysis, AnalysisCheck } from "../../controller/spec/schema.js";
import { checkName } from "../../controller/spec/validate.js";
import type { CheckLine, Fault, ScenarioState, TimelineEvent, VariantRate } from "./scenario-state.js";

const BAR = 10;
/** Columns an event line may take (a 100-column terminal). */
export const LINE_WIDTH = 100;

export function percent(bp: number): string {
  return `${Number((bp / 100).toFixed(2))}%`;
}

function rate(r: number | null | undefined): string {
  return r === null || r === undefined ? "–" : `${(100 * r).toFixed(2)}%`;
}

function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? "–" : `${v.toFixed(1)} ms`;
}

function seconds(msValue: number): string {
  return `${(msValue / 1000).toFixed(1)}s`;
}

export function describeFault(f: Fault): string {
  return f.kind === "error-rate" ? `error rate ${(100 * f.rate).toFixed(1)}%` : `latency +${f.extraMs} ms`;
}

/** A bar `filled` of 0..1. */
export function bar(filled: number): string {
  const n = Math.round(Math.max(0, Math.min(1, filled)) * BAR);
  return "█".repeat(n) + "·".repeat(BAR - n);
}

/** One bar per step: done steps full, the current one by time held against its pause. */
export function stepBars(s: ScenarioState, nowMs: number): string {
  const finished = s.phase === "Succeeded";
  return s.plan.steps
    .map((step, i) => {
      let fill = 0;
      if (finished || i < s.step) fill = 1;
      else if (i === s.step && s.stepStartedMs !== undefined && !["RolledBack", "Aborted"].includes(s.phase))
        fill = step.pauseMs > 0 ? (nowMs - s.stepStartedMs) / step.pauseMs : 1;
      const mark = i === s.step && !finished ? "▶" : " ";
      return `${mark}${step.weight}% ${bar(fill)}`;
    })
    .join("  ");
}

function variantLine(name: string, r: VariantRate | undefined): string {
  return `    ${name.padEnd(7)} ${(r ? r.rps.toFixed(1) : "–").padStart(7)} rps  failures ${rate(r?.failureRate).padStart(7)}  p99 ${ms(r?.p99Ms)}`;
}

const MARK: Record<string, string> = { pass: "✔", fail: "✖", inconclusive: "…" };

/** Figures a check shows: 3 value, limit and evidence; 2 value and limit; 1 value; 0 the name. */
type Detail = 0 | 1 | 2 | 3;
/**
 * Levels of detail tried in turn, [passing, undecided] checks: a passing check's figures go first,
 * an undecided one's next; a failing check always shows all of its figures.
 */
const LEVELS: ReadonlyArray<readonly [Detail, Detail]> = [
  [3, 3],
  [2, 3],
  [1, 3],
  [0, 3],
  [0, 2],
  [0, 1],
  [0, 0],
];

function compactCheck(c: CheckLine, [passing, undecided]: readonly [Detail, Detail]): string {
  const [measured, evidence] = checkFigures(c);
  const detail = c.verdict === "pass" ? passing : c.verdict === "fail" ? 3 : undecided;
  const value = detail >= 2 ? measured : detail === 1 ? measured.replace(/ \(limit [^)]*\)$/, "") : "";
  return [`${MARK[c.verdict] ?? "?"} ${c.name}`, value, detail === 3 ? evidence : ""]
    .filter((p) => p !== "")
    .join(" ");
}

/** `head` and the checks in the most detail that fits `width` columns (else cut with "…"). */
export function fitChecks(head: string, checks: readonly CheckLine[], width: number): string {
  if (checks.length === 0) return cutTo(head, width);
  const at = (level: readonly [Detail, Detail]) =>
    `${head}: ${checks.map((c) => compactCheck(c, level)).join("; ")}`;
  return cutTo(LEVELS.map(at).find((line) => line.length <= width) ?? at([0, 0]), width);
}

export function cutTo(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/** A decision and what it led to, in as few words as say it: "advance to step 2 (25%)", "rollback". */
function decisionHead(action: string, e: { to: string; step: number; weightBp: number }): string {
  if (action === "advance" && e.to === "Progressing")
    return `advance to step ${e.step + 1} (${percent(e.weightBp)})`;
  const natural: Record<string, string> = { rollback: "RollingBack", pause: "Paused" };
  return natural[action] === e.to ? action : `${action} → ${e.to}`;
}

/** A transition's reason without the "step k/n at w%: " its own fields already say. */
function ownReason(reason: string): string {
  return reason.replace(/^step \d+\/\d+ at [\d.]+%: /, "");
}

/** The live block of one scenario, timed from `originMs` (the demo's clock; default its own start). */
export function renderScenario(s: ScenarioState, nowMs: number, originMs = s.startedMs): string[] {
  const elapsed = `+${seconds((s.endedMs ?? nowMs) - originMs)}`;
  const lines = [
    `${s.plan.name.toUpperCase()}  ${s.plan.canary}  ${s.phase}  step ${Math.min(s.step + 1, s.plan.steps.length)}/${s.plan.steps.length}  ` +
      `weights stable ${percent(10000 - s.weightBp)} / canary ${percent(s.weightBp)}  (${elapsed})`,
    `    steps   ${stepBars(s, nowMs)}`,
    variantLine("stable", s.rates.stable),
    variantLine("canary", s.rates.canary),
  ];
  if (s.plan.fault) {
    const f = s.plan.fault;
    const when =
      s.faultInjectedMs === undefined
        ? `at step ${f.atStep + 1} (${s.plan.steps[f.atStep]?.weight}%)`
        : `injected at +${seconds(s.faultInjectedMs - s.startedMs)}`;
    lines.push(`    fault   ${describeFault(f.fault)} in the canary, ${when}`);
  }
  if (s.decision)
    lines.push(`    last    ${fitChecks(s.decision.action, s.decision.checks, LINE_WIDTH - 12)}`);
  if (s.message) lines.push(`    status  ${s.message}`);
  return lines.map((l) => l.replace(/\s+$/, ""));
}

/** The clock every scenario's lines are timed on: seconds since `originMs`, fixed width. */
export function clock(atMs: number, originMs: number): string {
  return `+${seconds(atMs - originMs).padStart(6)}`;
}

/**
 * One plain line per timeline event, timed from `originMs` (the same for every scenario) and at
 * most LINE_WIDTH columns; samples only when the caller asks for them.
 */
export function eventLine(name: string, originMs: number, e: TimelineEvent): string | undefined {
  const prefix = `${clock(e.atMs, originMs)} ${name.padEnd(8)} `;
  const room = LINE_WIDTH - prefix.length;
  return prefix + eventBody(e, room);
}

function eventBody(e: TimelineEvent, room: number): string {
  switch (e.kind) {
    case "canary-applied":
      return "Canary applied";
    case "transition": {
      if (e.decision) {
        return fitChecks(decisionHead(e.decision.action, e), e.decision.checks, room);
      }
      const where =
        e.to === "Progressing" || e.to === "Paused" ? `, step ${e.step + 1} at ${percent(e.weightBp)}` : "";
      return cutTo(`${e.from} → ${e.to}${where}: ${ownReason(e.reason)}`, room);
    }
    case "decision":
      return e.decision.checks.length > 0
        ? fitChecks(e.decision.action, e.decision.checks, room)
        : cutTo(`${e.decision.action}: ${e.decision.reason}`, room);
    case "fault":
      return cutTo(`fault injected into the canary: ${describeFault(e.fault)} (step ${e.step + 1})`, room);
    case "sample": {
      const v = (k: string) => {
        const r = e.variants[k];
        const p99 = r?.p99Ms == null ? "–" : `${Math.round(r.p99Ms)}ms`;
        return r ? `${k} ${r.rps.toFixed(0)}/s ${rate(r.failureRate)} p99 ${p99}` : `${k} –`;
      };
      return cutTo(`${percent(e.weightBp)} ${e.phase} · ${v("stable")} · ${v("canary")}`, room);
    }
  }
}

/** Describes one analysis check of the spec, e.g. "failure rate ≤ 2% and no worse than stable". */
export function describeCheck(c: AnalysisCheck): string {
  const parts: string[] = [];
  if (c.failureRate) {
    const { max, maxIncrease } = c.failureRate;
    if (max !== undefined) parts.push(`failure rate ≤ ${max}%`);
    if (maxIncrease === 0) parts.push("no worse than stable");
    else if (maxIncrease !== undefined) parts.push(`at most ${maxIncrease} points above stable`);
  } else if (c.latency) {
    const q = `p${Number((c.latency.quantile * 100).toFixed(1))} latency`;
    if (c.latency.maxMs !== undefined) parts.push(`${q} ≤ ${c.latency.maxMs} ms`);
    if (c.latency.maxRatio !== undefined) parts.push(`${q} ≤ ${c.latency.maxRatio}× stable's`);
  } else if (c.metric) {
    const { name, maxRatio, maxPerMinute } = c.metric;
    if (maxRatio !== undefined) parts.push(`${name} per request ≤ ${maxRatio}× stable's`);
    if (maxPerMinute !== undefined) parts.push(`${name} ≤ ${maxPerMinute} per minute`);
  }
  const sustained = c.sustainedFor ? `, sustained for ${c.sustainedFor}` : "";
  return parts.join(" and ") + sustained;
}

/** The checks every step must pass, printed once before the run; each line fits LINE_WIDTH. */
export function checksHeader(analysis: Analysis): string[] {
  const alpha = analysis.alpha ?? 0.01;
  const checks = analysis.checks ?? [];
  const width = Math.max(0, ...checks.map((c) => checkName(c).length));
  return [
    `checks, canary against stable at every step (anytime-valid tests, α = ${alpha}):`,
    ...checks.map((c) => cutTo(`  ${checkName(c).padEnd(width)}  ${describeCheck(c)}`, LINE_WIDTH)),
    cutTo(
      `  a step advances after ≥ ${analysis.minStepDuration ?? "30s"} with ≥ ${analysis.minRequests ?? 100} requests per variant and every check passing`,
      LINE_WIDTH,
    ),
    "  each decision below: ✔ pass ✖ fail … undecided; value (limit); evidence against the canary (×)",
  ];
}

/** The row of one scenario in the summary table. */
export interface SummaryRow {
  scenario: string;
  outcome: string;
  expected: string;
  durationMs: number;
  stepsWalked: string;
  requests: { stable: number; canary: number };
  failureRate: { stable: number | null; canary: number | null };
  flipsBeforeRollback: number;
  flipsTotal: number;
}

export function summaryRow(s: ScenarioState): SummaryRow {
  const c = s.counters;
  const fr = (v: string) => {
    const x = c[v];
    return x && x.requests > 0 ? x.failures / x.requests : null;
  };
  const walked = s.walkedSteps.length;
  return {
    scenario: s.plan.name,
    outcome: s.phase,
    expected: s.plan.expect,
    durationMs: (s.endedMs ?? s.lastSample?.atMs ?? s.startedMs) - s.startedMs,
    stepsWalked: `${walked}/${s.plan.steps.length}`,
    requests: { stable: c.stable?.requests ?? 0, canary: c.canary?.requests ?? 0 },
    failureRate: { stable: fr("stable"), canary: fr("canary") },
    flipsBeforeRollback: s.flipsBeforeRollback,
    flipsTotal: s.flipsTotal,
  };
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .replace(/\s+$/, ""),
  );
}

/** The closing table; flips are canary→stable moves of users (before the rollback / in total). */
export function renderSummary(rows: readonly SummaryRow[]): string[] {
  const header = [
    "scenario",
    "outcome",
    "expected",
    "duration",
    "steps",
    "requests stable/canary",
    "failures stable/canary",
    "flips before rollback (total)",
  ];
  const body = rows.map((r) => [
    r.scenario,
    r.outcome,
    r.expected,
    seconds(r.durationMs),
    r.stepsWalked,
    `${r.requests.stable}/${r.requests.canary}`,
    `${rate(r.failureRate.stable)}/${rate(r.failureRate.canary)}`,
    `${r.flipsBeforeRollback} (${r.flipsTotal})`,
  ]);
  return table([header, ...body]);
}
