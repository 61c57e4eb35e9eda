/**
 * Runs chosen traffic models or fault cases outside `make bench`, one JSON line each:
 *   node build/js/bench/traffic-models/cli.js <runs> <name,name,...>
 * Names are model names (A/A study) or fault-case names (detection study), as in models.ts.
 * MESHCANARY_BENCH_CLIENTS sets the number of client proxies reporting (world.ts `clients`), e.g. 1
 * to see decisions without the leave-one-out rule (which can only remove verdicts, so its A/A rate
 * bounds the default's). MESHCANARY_BENCH_BLOCK sets the Canary's blockDuration (e.g. 5s, 0s).
 * MESHCANARY_BENCH_FIRST_RUN starts the A/A seeds at that run index (default 0), to split a study.
 */
import { FAULTS as ALL_FAULTS, MODELS as ALL_MODELS, type TrafficModel } from "./models.js";
import { aaStudy, detectStudy } from "./study.js";

const clients = process.env.MESHCANARY_BENCH_CLIENTS
  ? Number(process.env.MESHCANARY_BENCH_CLIENTS)
  : undefined;
const withClients = (m: TrafficModel): TrafficModel =>
  clients === undefined ? m : { ...m, world: (d) => ({ ...m.world(d), clients }) };
const MODELS = ALL_MODELS.map(withClients);
const FAULTS = ALL_FAULTS.map((f) => ({ ...f, model: withClients(f.model) }));

const firstRun = Number(process.env.MESHCANARY_BENCH_FIRST_RUN ?? 0);
const runs = Number(process.argv[2]);
const names = (process.argv[3] ?? "").split(",").filter(Boolean);
const known = [...MODELS.map((m) => m.name), ...FAULTS.map((f) => f.name)];
const unknown = names.filter((n) => !known.includes(n));
if (!(runs >= 1) || names.length === 0 || unknown.length > 0) {
  process.stderr.write(
    `usage: cli.js <runs >= 1, got ${process.argv[2]}> <names>; unknown: ${unknown.join(", ") || "-"}; known: ${known.join(", ")}\n`,
  );
  process.exit(2);
}
if (!(Number.isInteger(firstRun) && firstRun >= 0)) {
  process.stderr.write(
    `MESHCANARY_BENCH_FIRST_RUN must be an integer >= 0, got ${process.env.MESHCANARY_BENCH_FIRST_RUN}\n`,
  );
  process.exit(2);
}
for (const m of MODELS.filter((x) => names.includes(x.name))) {
  const t0 = performance.now();
  const r = aaStudy(m, runs, undefined, firstRun);
  process.stdout.write(`${JSON.stringify({ ...r, seconds: (performance.now() - t0) / 1000 })}\n`);
}
for (const f of FAULTS.filter((x) => names.includes(x.name))) {
  const t0 = performance.now();
  const r = detectStudy(f, runs);
  process.stdout.write(`${JSON.stringify({ ...r, seconds: (performance.now() - t0) / 1000 })}\n`);
}
