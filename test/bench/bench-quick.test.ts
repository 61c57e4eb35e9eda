// The benchmarks still run and produce well-formed, sane results (structure and sanity, never
// performance): the smoke-sized run of the cheap benchmarks, plus the pure helpers they rely on.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countTestFailAt, simulate, zCanaryWorse } from "../../bench/false-rollbacks.js";
import { type BenchEntry, checkEntry, entry, formatTable } from "../../bench/results.js";
import { runBenches, select } from "../../bench/run.js";
import { parseWrk } from "../../bench/sidecar-overhead.js";
import { countFlips, meshcanaryCanary, RAMP_PCT, userKey } from "../../bench/sticky.js";

const dir = mkdtempSync(join(tmpdir(), "meshcanary-bench-"));
const out = join(dir, "results.json");
let entries: BenchEntry[];

function byName(name: string): BenchEntry {
  const e = entries.find((x) => x.name === name);
  if (!e) throw new Error(`no entry ${name} in ${entries.map((x) => x.name).join(", ")}`);
  return e;
}

beforeAll(async () => {
  const r = await runBenches({
    mode: "smoke",
    only: ["false-rollbacks", "decision-quality", "sticky", "ingest", "filter-cost", "sidecar-overhead"],
    out,
    log: () => {},
  });
  if (r instanceof Error) throw r;
  entries = r;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("smoke run", () => {
  it("writes exactly the returned entries, all well-formed, none failed", () => {
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(JSON.parse(JSON.stringify(entries)));
    expect(entries.map(checkEntry).filter(Boolean)).toEqual([]);
    expect(entries.filter((e) => e.name.endsWith(".error"))).toEqual([]);
    for (const e of entries) {
      if (e.ratio !== null) expect(e.ratio).toBeCloseTo(e.value / e.baseline!, 9);
      if (e.goal === null) expect(e.met).toBeNull();
    }
  });

  it("false-rollback fractions are fractions, and every method was measured", () => {
    for (const m of [
      "meshcanary",
      "count-test-every-1s",
      "flagger-defaults",
      "flagger-threshold-1",
      "fixed-horizon-z-60s",
    ]) {
      const v = byName(`false-rollbacks.${m}`).value;
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    // A 5x worse canary at 100 rps is found well within the hour, after at least one canary failure.
    expect(byName("power.5x.100rps.detected").value).toBe(1);
    expect(byName("power.5x.100rps.canary-failures").value).toBeGreaterThan(0);
  });

  it("decision quality: every cheap traffic model measured, regressions found after their onset", () => {
    for (const m of ["independent", "sticky-users", "retries", "pod-bursts", "shared-incidents"]) {
      const aa = byName(`decision-quality.aa.${m}`);
      expect(aa.value).toBeGreaterThanOrEqual(0);
      expect(aa.value).toBeLessThanOrEqual(byName(`decision-quality.aa.${m}.upper95`).value);
      expect(aa.note).toContain("95% interval");
    }
    for (const c of ["independent-5x", "late-onset-5x-at-20-min"]) {
      expect(byName(`decision-quality.detect.${c}.detected`).value).toBe(1);
      expect(byName(`decision-quality.detect.${c}.seconds`).value).toBeGreaterThan(0);
    }
  });

  it("sticky: no flips on the ramp, and the real filter agrees with the TS twin", () => {
    expect(byName("sticky.ramp-flips.2000users").value).toBe(0);
    expect(byName("sticky.ramp-flips.2000users").baseline).toBeGreaterThan(0);
    for (const e of entries.filter((x) => x.name.startsWith("sticky.split-error."))) {
      expect(e.value).toBeGreaterThan(0);
      expect(e.value).toBeLessThan(10);
    }
    if (existsSync("build/meshcanary.wasm")) {
      expect(byName("sticky.filter.twin-disagreements").value).toBe(0);
      expect(byName("sticky.filter.ramp-flips.1000users").value).toBe(0);
    }
  });

  it("ingest: the server received reports and measured itself", () => {
    expect(byName("ingest.100proxies.reports-per-s").value).toBeGreaterThan(10);
    expect(byName("ingest.100proxies.cpu-per-report").value).toBeGreaterThan(0);
    expect(byName("ingest.100proxies.handle-p99").value).toBeGreaterThan(0);
    expect(byName("ingest.100proxies.handle-p99").baseline).toBeGreaterThan(0);
    expect(byName("ingest.100proxies.rss").value).toBeGreaterThan(10);
  });

  it.skipIf(!existsSync("build/meshcanary.wasm"))(
    "filter cost: both modules timed on every path, memory measured",
    () => {
      for (const path of ["pin", "sticky", "random"]) {
        const e = byName(`filter-cost.${path}.per-request`);
        expect(e.value).toBeGreaterThan(0);
        expect(e.baseline).toBeGreaterThan(0);
      }
      expect(byName("filter-cost.memory-growth").value).toBeGreaterThanOrEqual(0);
    },
  );
});

const hasWrk = (() => {
  try {
    execFileSync("sh", ["-c", "command -v wrk"]);
    return true;
  } catch {
    return false;
  }
})();

describe("smoke run under wrk", () => {
  it.skipIf(!hasWrk || !existsSync("build/meshcanary.wasm"))(
    "sidecar overhead measured all three set-ups",
    () => {
      expect(byName("sidecar-overhead.app-direct.p50").value).toBeGreaterThan(0);
      expect(byName("sidecar-overhead.p50").baseline).toBeGreaterThan(0);
      expect(byName("sidecar-overhead.requests").value).toBeGreaterThan(0);
    },
  );
});

describe("helpers", () => {
  it("parseWrk reads the latency distribution, request count and errors", () => {
    const text = [
      "  Latency Distribution",
      "     50%  812.00us",
      "     75%    1.10ms",
      "     99%    2.50s",
      "  123456 requests in 10.00s, 20.00MB read",
      "  Non-2xx or 3xx responses: 7",
    ].join("\n");
    expect(parseWrk(text)).toEqual({ p50Ms: 0.812, p99Ms: 2500, requests: 123456, errors: 7 });
    expect(parseWrk("Running 1s test")).toBeInstanceOf(Error);
  });

  it("select names unknown benchmarks", () => {
    expect(select(["nope"])).toBeInstanceOf(Error);
    expect((select(["sticky"]) as { name: string }[]).map((b) => b.name)).toEqual(["sticky"]);
  });

  it("checkEntry rejects a NaN value and met without a goal, naming the field", () => {
    expect(checkEntry({ ...entry("x", 1, "u"), value: Number.NaN }, 3)).toMatch(/^results\[3\]\.value/);
    expect(checkEntry({ ...entry("x", 1, "u"), met: true }, 0)).toMatch(/\.met/);
    expect(formatTable([entry("a.b", 2, "ms", { baseline: 4, goal: "<= 1", met: false })])).toMatch(
      /0\.5x.*NO/,
    );
  });

  it("zCanaryWorse matches a hand-computed value and is undefined without failures", () => {
    // 20/1000 vs 10/1000: pooled 0.015, se = sqrt(0.015·0.985·0.002) = 0.0054358, z = 0.01 / se.
    expect(zCanaryWorse(20, 1000, 10, 1000)).toBeCloseTo(1.8397, 3);
    expect(zCanaryWorse(0, 1000, 0, 1000)).toBeNull();
  });

  it("the count test finds a 10x worse canary and not an identical one in the same traffic", () => {
    const base = {
      seconds: 600,
      rps: 200,
      stableRate: 0.01,
      schedule: [{ atSecond: 0, canaryWeight: 0.2 }],
      sharedNoise: 0,
    };
    expect(countTestFailAt(simulate({ ...base, seed: 1, canaryRate: 0.1 }))).not.toBeNull();
    expect(countTestFailAt(simulate({ ...base, seed: 1, canaryRate: 0.01 }))).toBeNull();
  });

  it("countFlips counts canary→stable moves and the sticky split has none", () => {
    expect(countFlips(3, (_i, s) => s % 2 === 0)).toBe(3 * Math.floor(RAMP_PCT.length / 2));
    expect(countFlips(500, (i, s) => meshcanaryCanary("c", userKey(i), RAMP_PCT[s] * 100))).toBe(0);
  });
});
