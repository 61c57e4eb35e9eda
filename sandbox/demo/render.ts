/**
 * The demo's terminal output as pure functions from state to lines: a live block per scenario
 * (redrawn in place on a TTY), one line per timeline event (appended otherwise: CI and tests are
 * not TTYs) and the closing summary table.
 */
import { checkFigures } from "../../controller/cli/format-status.js";
import type {
  CheckLine,
  DecisionLine,
  Fault,
  ScenarioState,
  TimelineEvent,
  VariantRate,
} from "./scenario-state.js";

const BAR = 10;

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

/** A check as the CLI shows it (checkFigures): value against its limit, evidence as a factor. */
export function checkText(c: CheckLine): string {
  return [`${c.name} ${c.verdict}`, ...checkFigures(c)].filter((p) => p !== "").join(" ");
}

export function decisionText(d: DecisionLine): string {
  const checks = d.checks.map(checkText).join("; ");
  return `${d.action}${checks ? ` [${checks}]` : ""}: ${d.reason}`;
}

/** The live block of one scenario. */
export function renderScenario(s: ScenarioState, nowMs: number): string[] {
  const elapsed = seconds((s.endedMs ?? nowMs) - s.startedMs);
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
  if (s.decision) lines.push(`    last    ${decisionText(s.decision)}`);
  if (s.message) lines.push(`    status  ${s.message}`);
  return lines.map((l) => l.replace(/\s+$/, ""));
}

/** One plain line per timeline event (samples every `sampleEveryMs` only). */
export function eventLine(name: string, startedMs: number, e: TimelineEvent): string | undefined {
  const at = `+${seconds(e.atMs - startedMs).padStart(6)}`;
  switch (e.kind) {
    case "canary-applied":
      return `${at} ${name}: Canary applied`;
    case "transition":
      return `${at} ${name}: ${e.from} → ${e.to}, step ${e.step + 1}, canary ${percent(e.weightBp)} — ${e.reason}`;
    case "decision":
      return `${at} ${name}: decision ${decisionText(e.decision)}`;
    case "fault":
      return `${at} ${name}: fault injected into the canary: ${describeFault(e.fault)} (step ${e.step + 1})`;
    case "sample": {
      const v = (k: string) => {
        const r = e.variants[k];
        return r ? `${k} ${r.rps.toFixed(0)} rps ${rate(r.failureRate)} p99 ${ms(r.p99Ms)}` : `${k} –`;
      };
      return `${at} ${name}: ${e.phase} canary ${percent(e.weightBp)} | ${v("stable")} | ${v("canary")}`;
    }
  }
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
  const walked = s.phase === "Succeeded" ? s.plan.steps.length : s.maxStep + 1;
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
