// The real-Envoy benchmarks still run and measure what they claim (structure and sanity, never
// performance): their smoke-sized run through Envoy with wrk, plus the pure helpers they rely on.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryEntries, slope } from "../../bench/envoy-memory.js";
import { envoyBenchMissing } from "../../bench/envoy-overhead.js";
import { MESHCANARY_WASM, NOOP_WASM } from "../../bench/envoy-rig.js";
import { parseMappings, procSample, wasmMemories } from "../../bench/proc-stats.js";
import type { BenchEntry } from "../../bench/results.js";
import { runBenches } from "../../bench/run.js";

const missing = envoyBenchMissing(".", [NOOP_WASM, MESHCANARY_WASM]);
const dir = mkdtempSync(join(tmpdir(), "meshcanary-envoy-bench-"));
let entries: BenchEntry[] = [];

function byName(name: string): BenchEntry {
  const e = entries.find((x) => x.name === name);
  if (!e) throw new Error(`no entry ${name} in ${entries.map((x) => x.name).join(", ")}`);
  return e;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(missing !== undefined)(
  `smoke run through real Envoy${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    beforeAll(async () => {
      const r = await runBenches({
        mode: "smoke",
        only: ["envoy-overhead", "envoy-memory"],
        out: join(dir, "results.json"),
        log: () => {},
      });
      if (r instanceof Error) throw r;
      entries = r;
    }, 120_000);

    it("ran without errors", () => {
      expect(entries.filter((e) => e.name.endsWith(".error"))).toEqual([]);
    });

    it("overhead: every sidecar was measured against the no-Wasm one", () => {
      expect(byName("envoy-overhead.no-wasm.cpu-per-request").value).toBeGreaterThan(0);
      for (const k of ["noop", "bare", "meshcanary"]) {
        const cpu = byName(`envoy-overhead.${k}.cpu-per-request`);
        expect(cpu.value).toBeGreaterThan(0);
        expect(cpu.baseline).toBe(byName("envoy-overhead.no-wasm.cpu-per-request").value);
        expect(byName(`envoy-overhead.${k}.requests-per-s`).value).toBeGreaterThan(0);
      }
      expect(byName("envoy-overhead.meshcanary.added-cpu-vs-noop").goal).toBe("<= 1.5x");
      expect(byName("envoy-overhead.bare.added-cpu").value).toBeCloseTo(
        byName("envoy-overhead.bare.cpu-per-request").value -
          byName("envoy-overhead.no-wasm.cpu-per-request").value,
        9,
      );
    });

    it("overhead: meshcanary really decided in Envoy (a 10% canary share) and reported", () => {
      const share = byName("envoy-overhead.meshcanary.canary-share").value;
      expect(share).toBeGreaterThan(0.03);
      expect(share).toBeLessThan(0.2);
      expect(byName("envoy-overhead.meshcanary.reports").value).toBeGreaterThan(0);
    });

    it("memory: the Wasm VMs' linear memories were found in Envoy and sampled", () => {
      expect(byName("envoy-memory.requests").value).toBeGreaterThanOrEqual(10_000);
      // --concurrency 2: two worker VMs and the main-thread VM at least.
      expect(byName("envoy-memory.wasm-memory").value).toBeGreaterThanOrEqual(3 * 65536);
      expect(byName("envoy-memory.rss").baseline).toBeGreaterThan(0);
    });
  },
);

describe("helpers", () => {
  // Shape of V8's Wasm memories in /proc/<pid>/maps: the used pages, then the rest of an 8 GiB reservation.
  const maps = [
    "55d0c0000000-55d0c0100000 r-xp 00000000 08:01 1234 /usr/bin/envoy",
    "7f6455d60000-7f6456560000 rw-p 00000000 00:00 0 ",
    "7f6456560000-7f6456580000 rw-p 00000000 00:00 0 ",
    "7f6456580000-7f6656560000 ---p 00000000 00:00 0 ",
    "7f665656c000-7f665657c000 r--p 00000000 00:00 0 ",
    "7f68b7540000-7f68b7570000 ---p 00000000 00:00 0 ",
    "7f68b7570000-7f68b75b0000 rw-p 00000000 00:00 0 ",
    "7f68b75b0000-7f6ab7570000 ---p 00000000 00:00 0 ",
    // A large inaccessible region after a gap is not a Wasm memory.
    "7f7000000000-7f7000010000 rw-p 00000000 00:00 0 ",
    "7f7000020000-7f7200020000 ---p 00000000 00:00 0 ",
  ].join("\n");

  it("wasmMemories finds each memory's accessible part before its reservation", () => {
    expect(parseMappings(maps)).toHaveLength(10);
    expect(wasmMemories(maps)).toEqual([128 * 1024, 256 * 1024]);
    expect(wasmMemories("")).toEqual([]);
  });

  it("procSample reads this process's CPU and RSS", () => {
    const s = procSample(process.pid);
    expect(s.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(s.cpuUs).toBeGreaterThan(0);
    expect(readFileSync(`/proc/${process.pid}/maps`, "utf8").length).toBeGreaterThan(0);
  });

  it("slope is the least-squares slope", () => {
    expect(slope([])).toBe(0);
    expect(slope([{ x: 1, y: 5 }])).toBe(0);
    expect(slope([0, 1, 2, 3].map((x) => ({ x, y: 2 * x + 7 })))).toBeCloseTo(2, 12);
    expect(
      slope([
        { x: 0, y: 1 },
        { x: 1, y: 3 },
        { x: 2, y: 2 },
      ]),
    ).toBeCloseTo(0.5, 12);
  });

  it("memoryEntries judges growth after the warm-up, with goals only in the full run", () => {
    const samples = [
      { requests: 100, rssBytes: 1000, wasmBytes: 100, vms: 2 },
      { requests: 200, rssBytes: 5000, wasmBytes: 200, vms: 2 },
      { requests: 300, rssBytes: 5000, wasmBytes: 200, vms: 2 },
      { requests: 400, rssBytes: 5000, wasmBytes: 200, vms: 2 },
    ];
    const full = memoryEntries(samples, 200, 800, { full: true, note: "" });
    const get = (name: string) => full.find((e) => e.name === name);
    expect(get("envoy-memory.rss-slope")).toMatchObject({ value: 0, met: true });
    expect(get("envoy-memory.wasm-growth")).toMatchObject({ value: 0, met: true });
    const leaking = memoryEntries(
      samples.map((s) => ({ ...s, rssBytes: s.requests * 3, wasmBytes: s.requests })),
      200,
      800,
      { full: true, note: "" },
    );
    expect(leaking.find((e) => e.name === "envoy-memory.rss-slope")).toMatchObject({ value: 3, met: false });
    expect(leaking.find((e) => e.name === "envoy-memory.wasm-growth")).toMatchObject({
      value: 200,
      met: false,
    });
    const quick = memoryEntries(samples, 200, 800, { full: false, note: "" });
    expect(quick.every((e) => e.goal === null && e.met === null)).toBe(true);
  });
});
