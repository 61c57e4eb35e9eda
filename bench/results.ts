/**
 * Benchmark results: one entry per figure, written to bench/results.json and printed as a table.
 * Every figure that has a goal is compared against a baseline measured in the same run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** One measured figure. */
export interface BenchEntry {
  /** Dotted name, benchmark first (e.g. "false-rollbacks.meshcanary"). */
  name: string;
  value: number;
  /** Unit of value (and of baseline). */
  unit: string;
  /** The goal as text (e.g. "<= 1.5x", "<= 0.01"), or null when the figure is for contrast only. */
  goal: string | null;
  /** The same figure for the baseline measured in this run, or null when there is none. */
  baseline: number | null;
  /** value / baseline, or null without a baseline (or a zero baseline). */
  ratio: number | null;
  /** Whether the goal is met, or null when there is no goal. */
  met: boolean | null;
  /** What the baseline is, or why a figure is missing. */
  note?: string;
}

/** Mode of a run: full (make bench), quick (BENCH_QUICK=1, ≤ 2 min), smoke (the test suite's check). */
export type BenchMode = "full" | "quick" | "smoke";

/** What each benchmark receives. */
export interface BenchContext {
  mode: BenchMode;
  /** Progress lines (stderr), never results. */
  log(line: string): void;
}

/** A benchmark: a name the runner selects by, and its measurement. */
export interface Bench {
  name: string;
  run(ctx: BenchContext): Promise<BenchEntry[]>;
}

/** value / baseline, or null when the baseline is missing or zero. */
export function ratioOf(value: number, baseline: number | null): number | null {
  return baseline === null || baseline === 0 || !Number.isFinite(baseline) ? null : value / baseline;
}

/** Builds an entry, computing the ratio. */
export function entry(
  name: string,
  value: number,
  unit: string,
  opts: { goal?: string | null; baseline?: number | null; met?: boolean | null; note?: string } = {},
): BenchEntry {
  const b = opts.baseline ?? null;
  const baseline = b !== null && Number.isFinite(b) ? b : null;
  const out: BenchEntry = {
    name,
    value,
    unit,
    goal: opts.goal ?? null,
    baseline,
    ratio: ratioOf(value, baseline),
    met: opts.goal ? (opts.met ?? null) : null,
  };
  if (opts.note) out.note = opts.note;
  return out;
}

/** A structural problem with an entry, naming the field and value; undefined when well-formed. */
export function checkEntry(e: BenchEntry, index: number): string | undefined {
  const at = `results[${index}]`;
  if (typeof e.name !== "string" || e.name === "") return `${at}.name: must be a non-empty string`;
  if (typeof e.value !== "number" || Number.isNaN(e.value))
    return `${at}.value: must be a number, got ${e.value} (${e.name})`;
  if (typeof e.unit !== "string" || e.unit === "")
    return `${at}.unit: must be a non-empty string (${e.name})`;
  if (e.goal !== null && typeof e.goal !== "string") return `${at}.goal: must be text or null (${e.name})`;
  if (e.baseline !== null && typeof e.baseline !== "number")
    return `${at}.baseline: must be a number or null (${e.name})`;
  if (e.ratio !== null && typeof e.ratio !== "number")
    return `${at}.ratio: must be a number or null (${e.name})`;
  if (e.met !== null && typeof e.met !== "boolean") return `${at}.met: must be boolean or null (${e.name})`;
  if (e.goal === null && e.met !== null)
    return `${at}.met: must be null without a goal, got ${e.met} (${e.name})`;
  return undefined;
}

function fmt(v: number | null): string {
  if (v === null) return "-";
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.001 || a >= 1e6)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

/** The entries as an aligned text table. */
export function formatTable(entries: readonly BenchEntry[]): string {
  const rows = [
    ["name", "value", "unit", "baseline", "ratio", "goal", "met"],
    ...entries.map((e) => [
      e.name,
      fmt(e.value),
      e.unit,
      fmt(e.baseline),
      e.ratio === null ? "-" : `${fmt(e.ratio)}x`,
      e.goal ?? "-",
      e.met === null ? "-" : e.met ? "yes" : "NO",
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ")).join("\n");
}

/** Writes the entries as a JSON array. */
export function writeResults(path: string, entries: readonly BenchEntry[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(entries, null, 2)}\n`);
}
