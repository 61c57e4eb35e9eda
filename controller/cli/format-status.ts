/**
 * Status as text, a tree like `kubectl argo rollouts get rollout`: header fields, then Weights,
 * Conditions, Last decision (each check's verdict, e-value and threshold) and History. Pure.
 */
import type { CheckResult } from "../spec/schema.js";
import type { StatusView } from "./status-view.js";

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
    "Weights:",
    ...tree(
      table(
        view.weights.map((w) => [w.subset ? `${w.variant} (${w.subset})` : w.variant, percent(w.weightBp)]),
      ),
    ),
  ];
  if (view.specErrors) lines.push("Spec errors:", ...tree(view.specErrors));
  if (view.conditions.length > 0) {
    lines.push(
      "Conditions:",
      ...tree(table(view.conditions.map((c) => [c.type, c.status, c.reason, c.message]))),
    );
  }
  const decision = view.lastDecision;
  if (decision) {
    lines.push(`Last decision: ${decision.action} at ${decision.at}: ${decision.reason}`);
    lines.push(...tree(table(decision.checks.map(checkRow))));
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

function checkRow(check: CheckResult): string[] {
  const number = (key: string, label: string) => {
    const v = (check as Record<string, unknown>)[key];
    return typeof v === "number" ? `${label}=${figure(v)}` : "";
  };
  return [
    `${VERDICT_MARK[check.verdict] ?? "?"} ${check.name}`,
    check.verdict,
    number("eValue", "e"),
    number("threshold", "threshold"),
    check.message ?? "",
  ];
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
