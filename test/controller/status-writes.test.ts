/**
 * Status is written on change, not every second: during a steady step with analysis running on
 * live telemetry, the Canary's status reaches the API server at most once per checkpoint. The same
 * run with a 1-s checkpoint shows the figures really move every second (so the count can fail).
 */
import { afterAll, describe, expect, it } from "vitest";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import { healthySpec, type Json, NS, startWorld, until, type World } from "./harness.js";

const worlds: World[] = [];
const sims: ReporterSim[] = [];
afterAll(async () => {
  for (const s of sims) s.close();
  for (const w of worlds) await w.close();
});

/** Status writes (MODIFIED watch events) of a Canary held at its first step for `windowMs`. */
async function statusWritesDuringSteadyStep(checkpointMs: number | undefined, windowMs: number) {
  const world = await startWorld(["reviews"]);
  worlds.push(world);
  const c = await world.controller(checkpointMs === undefined ? {} : { statusCheckpointMs: checkpointMs });
  const sim = startReporterSim({
    address: `127.0.0.1:${c.telemetryPort}`,
    canary: `${NS}/steady`,
    rps: 2000,
    failureRate: { stable: 0.01, canary: 0.01 },
    intervalMs: 200,
  });
  sims.push(sim);
  // A long hold keeps the rollout at step 1 while the analysis consumes a window every second.
  await world.createCanary("steady", { ...healthySpec([10, 50]), analysis: { minStepDuration: "10m" } });
  const started = await until("analysis running at step 1", async () => {
    const canary = await world.canary("steady");
    const analysing = canary.status?.conditions?.some((x: Json) => x.type === "AnalysisPassing");
    return analysing && canary.status.stepStartedAt && canary;
  });
  // Let the first analysis verdicts settle before counting.
  await new Promise((r) => setTimeout(r, 2000));
  const rv = (await world.canary("steady")).metadata.resourceVersion;
  const stop = new AbortController();
  const path = `/apis/meshcanary.io/v1alpha1/namespaces/${NS}/canaries?watch=true&resourceVersion=${rv}`;
  const res = await fetch(world.api.url + path, {
    headers: { authorization: `Bearer ${world.api.token}` },
    signal: stop.signal,
  });
  let text = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk);
  })().catch(() => undefined);
  await new Promise((r) => setTimeout(r, windowMs));
  stop.abort();
  await reading;
  const events = text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Json);
  const last = await world.canary("steady");
  return { started, last, writes: events.filter((e) => e.type === "MODIFIED").length };
}

describe("status writes", () => {
  it("a steady step writes at most one checkpoint per 30 s, where a 1-s checkpoint writes every second", async () => {
    const [steady, everySecond] = await Promise.all([
      statusWritesDuringSteadyStep(undefined, 8000),
      statusWritesDuringSteadyStep(1000, 8000),
    ]);
    for (const run of [steady, everySecond]) {
      expect(run.last.status.phase).toBe("Progressing");
      expect(run.last.status.step).toBe(0);
    }
    expect(everySecond.writes).toBeGreaterThanOrEqual(4);
    expect(steady.writes).toBeLessThanOrEqual(1);
  }, 60_000);
});
