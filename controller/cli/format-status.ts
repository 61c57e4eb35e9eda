/**
 * Status as text, a tree like `kubectl argo rollouts get rollout`: header fields, then Weights,
 * Conditions, Gates, Last decision (each check's verdict, e-value and threshold) and History. Pure.
 */
import type { CheckResult, CommandResult, GateStatus } from "../spec/schema.js";
import type { StatusView, StepView } from "./status-view.js";

const VERDICT_MARK: Record<string, string> = { pass: "✔", fail: "✖", inconclusive: "…" };

/** The tree for one Canary, one string per line. */
export function formatStatus(view: StatusView): string[] {
  const lines = [
    ...field("Name", view.name),
    ...field("Namespace", view.namespace),
    ...field("Host", view.host),
    ...field("Strategy", view.strategy),
    ...field("Phase", view.pausedBy ? `${view.phase} (${view.pausedBy})` : view.phase),
    ...field("Step", `${view.step}/${view.steps ?? "?"}`),
    ...field("Message", view.message || undefined),
    ...field("Pending", view.pendingCommand && `${view.pendingCommand} (not yet handled by the controller)`),
    ...field("Command", view.commandResult && commandLine(view.commandResult)),
    ...field("Exposure", view.exposure && exposureLine(view.exposure)),
    "Weights:",
    ...tree(
      table(
        view.weights.map((w) => [w.subset ? `${w.variant} (${w.subset})` : w.variant, percent(w.weightBp)]),
      ),
    ),
  ];
  if (view.plan && view.plan.length > 0) lines.push("Steps:", ...tree(table(view.plan.map(stepRow(view)))));
  if (view.specErrors) lines.push("Spec errors:", ...tree(view.specErrors));
  if (view.conditions.length > 0) {
    lines.push(
      "Conditions:",
      ...tree(table(view.conditions.map((c) => [c.type, c.status, c.reason, c.message]))),
    );
  }
  if (view.gates && view.gates.length > 0) lines.push("Gates:", ...tree(table(view.gates.map(gateRow))));
  const decision = view.lastDecision;
  if (decision) {
    lines.push(`Last decision: ${decision.action} at ${decision.at}: ${decision.reason}`);
    lines.push(...tree(table(decision.checks.map(checkRow(view.rollbackAt)))));
  }
  if (view.history.length > 0) {
    lines.push(
      "History:",
      ...tree(
        table(
          view.history.map((t) => [
            t.at,
            `${t.from} → ${t.to}`,
            `step ${t.step + 1}`,
            percent(t.weightBp),
            t.reason,
          ]),
        ),
      ),
    );
  }
  return lines;
}

/** One line per Canary: the overview `status` prints without a name. */
export function formatSummary(views: readonly StatusView[]): string[] {
  if (views.length === 0) return ["No canaries found."];
  const header = ["NAMESPACE", "NAME", "PHASE", "STEP", "CANARY", "MESSAGE"];
  const rows = views.map((v) => [
    v.namespace,
    v.name,
    v.pausedBy ? `${v.phase}(${v.pausedBy})` : v.phase,
    `${v.step}/${v.steps ?? "?"}`,
    percent(v.weights.find((w) => w.variant === "canary")?.weightBp ?? 0),
    v.message,
  ]);
  return table([header, ...rows]);
}

/** Basis points as a percent without trailing zeros: 2500 → "25%", 150 → "1.5%". */
export function percent(weightBp: number): string {
  return `${Number((weightBp / 100).toFixed(2))}%`;
}

/** Figures as they read best: up to 4 significant digits, exponent form only when far from 1. */
export function figure(value: number): string {
  if (value !== 0 && (Math.abs(value) >= 1e6 || Math.abs(value) < 1e-3)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/**
 * A check's figures as every view prints them: the measured value against the check's limit
 * (`threshold` in status: the one meaning the word has), and the evidence against the canary as a
 * factor next to the factor at which the rollout rolls back (1/α), e.g. ["0.041 (limit 0.02)",
 * "evidence 212× (rollback at 100×)"]; absent figures give empty strings.
 */
export function checkFigures(
  check: { value?: unknown; threshold?: unknown; eValue?: unknown; rollbackAt?: unknown },
  rollbackAt?: number,
): [string, string] {
  const number = (v: unknown) => (typeof v === "number" ? figure(v) : undefined);
  const [value, limit, e] = [number(check.value), number(check.threshold), number(check.eValue)];
  const measured = value === undefined ? "" : `${value}${limit === undefined ? "" : ` (limit ${limit})`}`;
  // The check's own level (alpha split over its tests and steps) when the analysis recorded it.
  const at = number(check.rollbackAt) ?? (rollbackAt === undefined ? undefined : figure(rollbackAt));
  const level = at === undefined ? "" : ` (rollback at ${at}×)`;
  return [measured, e === undefined ? "" : `evidence ${e}×${level}`];
}

function checkRow(rollbackAt: number | undefined): (check: CheckResult) => string[] {
  return (check) => [
    `${VERDICT_MARK[check.verdict] ?? "?"} ${check.name}`,
    check.verdict,
    ...checkFigures(check as Record<string, unknown>, rollbackAt),
    check.message ?? "",
  ];
}

const GATE_MARK: Record<GateStatus["result"], string> = { Passed: "✔", Failed: "✖", Pending: "…" };

/** A gate's row: mark, name, type, result, failures, when it last answered, what it said. */
function gateRow(g: GateStatus): string[] {
  const failures = g.failures === 1 ? "1 failure" : `${g.failures} failures`;
  return [
    `${GATE_MARK[g.result]} ${g.name}`,
    g.type,
    g.result,
    failures,
    g.at ?? "not answered yet",
    g.message,
  ];
}

const STEP_MARK: Record<StepView["state"], string> = { done: "✔", current: "▶", pending: " " };

/** A plan step's row: mark, number, weight, gate and hold; the current one with time in it. */
function stepRow(view: StatusView): (step: StepView, index: number) => string[] {
  return (step, index) => {
    const gate = step.gate === "time" ? "after the hold" : `then ${step.gate}`;
    const row = [
      `${STEP_MARK[step.state]} ${index + 1}`,
      percent(step.weightBp),
      `hold ≥${seconds(step.holdMs)}, ${gate}`,
    ];
    if (step.state === "current")
      row.push(view.stepStartedAt ? `in force since ${view.stepStartedAt}` : "waiting for the mesh");
    return row;
  };
}

function seconds(ms: number): string {
  return ms % 60_000 === 0 && ms > 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
}

function commandLine(result: CommandResult): string {
  return `${result.command} ${result.result.toLowerCase()} at ${result.at}: ${result.message}`;
}

function field(label: string, value: string | undefined): string[] {
  return value === undefined ? [] : [`${`${label}:`.padEnd(11)}${value}`];
}

/** Rows as aligned columns; empty trailing cells do not leave trailing spaces. */
function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

function tree(lines: string[]): string[] {
  return lines.map((line, i) => `${i === lines.length - 1 ? "└─" : "├─"} ${line}`);
}

/** "9.5% of requests · 14.7% of tokens · 25.9% of cost" (the canary's shares in this step). */
function exposureLine(e: NonNullable<StatusView["exposure"]>): string | undefined {
  const parts = (["requests", "tokens", "cost"] as const).flatMap((k) =>
    e[k] === undefined ? [] : [`${e[k]}% of ${k}`],
  );
  return parts.length > 0 ? parts.join(" · ") : undefined;
}
