/**
 * Benchmark runner (`make bench`, run from the repository root): runs the selected benchmarks in order, prints a table of ratios
 * against same-run baselines, and writes bench/results.json.
 *
 *   node build/js/bench/run.js [name ...]     names select benchmarks (default: all)
 *   BENCH_QUICK=1                             the ≤ 2-minute subset (smaller runs)
 *   BENCH_RESULTS=path                        where to write the JSON (default bench/results.json)
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { envoyHostCalls } from "./envoy-host-calls.js";
import { envoyMemory } from "./envoy-memory.js";
import { envoyOverhead } from "./envoy-overhead.js";
import { decisionQuality } from "./decision-quality.js";
import { falseRollbacks } from "./false-rollbacks.js";
import { filterCost } from "./filter-cost.js";
import { ingest } from "./ingest.js";
import { llmCost } from "./llm-cost.js";
import {
  type Bench,
  type BenchEntry,
  type BenchMode,
  checkEntry,
  formatTable,
  writeResults,
} from "./results.js";
import { rollbackTime } from "./rollback-time.js";
import { sidecarOverhead } from "./sidecar-overhead.js";
import { sticky } from "./sticky.js";

/** Every benchmark, in the order they run. */
export const BENCHES: Bench[] = [
  falseRollbacks,
  decisionQuality,
  sticky,
  ingest,
  filterCost,
  llmCost,
  sidecarOverhead,
  envoyOverhead,
  envoyHostCalls,
  envoyMemory,
  rollbackTime,
];

/** What to run and where to write. */
export interface RunOptions {
  mode: BenchMode;
  /** Benchmark names; empty = all. */
  only: string[];
  /** results.json path. */
  out: string;
  log?: (line: string) => void;
}

/** The selected benchmarks, or an error naming an unknown one. */
export function select(names: readonly string[]): Bench[] | Error {
  if (names.length === 0) return BENCHES;
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0) {
    return new Error(
      `unknown benchmark ${unknown.join(", ")}; known: ${BENCHES.map((b) => b.name).join(", ")}`,
    );
  }
  return BENCHES.filter((b) => names.includes(b.name));
}

/**
 * Runs the benchmarks and writes the results; a benchmark that throws is recorded as a failed entry
 * (`<name>.error`) so one broken piece does not hide the others' figures.
 */
export async function runBenches(opts: RunOptions): Promise<BenchEntry[] | Error> {
  const benches = select(opts.only);
  if (benches instanceof Error) return benches;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const entries: BenchEntry[] = [];
  for (const b of benches) {
    const started = performance.now();
    try {
      entries.push(...(await b.run({ mode: opts.mode, log })));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log(`${b.name}: FAILED: ${message}`);
      entries.push({
        name: `${b.name}.error`,
        value: 1,
        unit: "failed run",
        goal: "no error",
        baseline: null,
        ratio: null,
        met: false,
        note: message,
      });
    }
    log(`${b.name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const bad = entries.map(checkEntry).filter((m) => m !== undefined);
  if (bad.length > 0) return new Error(`malformed results: ${bad.join("; ")}`);
  writeResults(opts.out, entries);
  return entries;
}

async function main(): Promise<number> {
  const mode: BenchMode = process.env.BENCH_QUICK === "1" ? "quick" : "full";
  const out = resolve(process.env.BENCH_RESULTS ?? "bench/results.json");
  const result = await runBenches({ mode, only: process.argv.slice(2), out });
  if (result instanceof Error) {
    process.stderr.write(`bench: ${result.message}\n`);
    return 2;
  }
  process.stdout.write(`${formatTable(result)}\n\nwrote ${out}\n`);
  const missed = result.filter((e) => e.met === false).map((e) => e.name);
  if (missed.length > 0) process.stdout.write(`goals missed: ${missed.join(", ")}\n`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(2);
    },
  );
}
