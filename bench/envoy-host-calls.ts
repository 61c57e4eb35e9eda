/**
 * What one host call costs in real Envoy (V8): the price list behind meshcanary's CPU per request
 * (docs/envoy.md "CPU per request"). Each probe is a module (bench/host-call-probes.ts) that makes
 * one host call REPEATS times in on_log and nothing else; the reference probe has the same exports
 * and makes none. All run as client sidecars of bench/envoy-rig.ts in alternating rounds, so a
 * probe's cost per call is (its CPU per request − the reference's, same run) ÷ REPEATS. Values a
 * call returns are copied into the VM through a call into its malloc, so a probe that returns a
 * value includes that call; the empty and the 8-byte shared-data probes separate the two.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { findEnvoy } from "../sandbox/envoy/binary.js";
import type { EnvoySidecar } from "../sandbox/envoy/envoy-sidecar.js";
import { envoyBenchMissing } from "./envoy-overhead.js";
import { downstreamRequests, HOST, startBenchSidecar, startSink, startUpstream } from "./envoy-rig.js";
import { PROBES, probeModule, REPEATS } from "./host-call-probes.js";
import { procSample } from "./proc-stats.js";
import { type Bench, type BenchContext, type BenchEntry, entry } from "./results.js";
import { wrkPath } from "./sidecar-overhead.js";
import { runWrk } from "./wrk-load.js";

const LOAD_CONNECTIONS = 8;

function sizes(ctx: BenchContext) {
  if (ctx.mode === "full") return { loadSeconds: 5, rounds: 5 };
  if (ctx.mode === "quick") return { loadSeconds: 2, rounds: 2 };
  return { loadSeconds: 1, rounds: 1 };
}

/** Envoy CPU µs per request of one closed-loop wrk run. */
async function cpuPerRequest(wrk: string, sidecar: EnvoySidecar, seconds: number): Promise<number> {
  const cpu0 = procSample(sidecar.process.pid).cpuUs;
  const served0 = await downstreamRequests(sidecar);
  await runWrk(wrk, {
    url: `${sidecar.url}/`,
    host: HOST,
    seconds,
    connections: LOAD_CONNECTIONS,
    pauseMs: 0,
  });
  const cpu = procSample(sidecar.process.pid).cpuUs - cpu0;
  return cpu / ((await downstreamRequests(sidecar)) - served0);
}

/** Writes each probe's module to build/bench/probe-<name>.wasm; returns the paths by name. */
async function writeProbes(): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  for (const name of Object.keys(PROBES)) {
    const path = resolve(`build/bench/probe-${name}.wasm`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, await probeModule(name));
    paths.set(name, path);
  }
  return paths;
}

export const envoyHostCalls: Bench = {
  name: "envoy-host-calls",
  async run(ctx) {
    const missing = envoyBenchMissing(".", []);
    const envoy = findEnvoy(".");
    const wrk = wrkPath();
    if (missing || !envoy.ok || !wrk) {
      ctx.log(`envoy-host-calls: skipped: ${missing}`);
      return [];
    }
    const n = sizes(ctx);
    const probes = await writeProbes();
    const upstream = await startUpstream(envoy.path);
    const sink = await startSink();
    const sidecars = new Map<string, EnvoySidecar>();
    try {
      for (const [name, wasmPath] of probes) {
        sidecars.set(
          name,
          await startBenchSidecar({
            binary: envoy.path,
            kind: "probe",
            wasmPath,
            upstream,
            sink,
            concurrency: 1,
          }),
        );
      }
      const runs = new Map([...probes.keys()].map((k) => [k, [] as number[]]));
      for (let r = 0; r < n.rounds; r++) {
        ctx.log(`envoy-host-calls: round ${r + 1}/${n.rounds}, ${probes.size} x ${n.loadSeconds} s`);
        for (const [name, sidecar] of sidecars) {
          const us = await cpuPerRequest(wrk, sidecar, n.loadSeconds);
          runs.get(name)?.push(us);
          ctx.log(`envoy-host-calls: ${name}: ${us.toFixed(1)} µs CPU/request`);
        }
      }
      return callEntries(runs, envoy.version);
    } finally {
      for (const s of sidecars.values()) await s.close();
      await sink.close();
      await upstream.close();
    }
  },
};

/** Per probe, µs per call: best-of-rounds difference to the reference probe, ÷ REPEATS. */
export function callEntries(runs: Map<string, number[]>, version: string): BenchEntry[] {
  const bestOf = (name: string) => Math.min(...(runs.get(name) ?? [Number.NaN]));
  const reference = bestOf("none");
  const out = [
    entry("envoy-host-calls.none.cpu-per-request", reference, "µs CPU", {
      note: `Envoy ${version}, --concurrency 1: a module with meshcanary's exports making no host call`,
    }),
  ];
  for (const [name, probe] of Object.entries(PROBES)) {
    if (name === "none") continue;
    out.push(
      entry(`envoy-host-calls.${name}`, (bestOf(name) - reference) / REPEATS, "µs CPU per call", {
        note: `${probe.what}; (best of rounds − reference, same run) ÷ ${REPEATS}`,
      }),
    );
  }
  return out;
}
