/**
 * Filter cost per request (DESIGN §7 "filter cost"): build/meshcanary.wasm in the sandbox host
 * against bench/fixtures/bare.wat — a module with the same exports making the same host calls
 * per request, without decision logic or tallies — on the pin, sticky and random paths; and the
 * filter's linear memory before and after a long run (goal: no growth).
 *
 * Both run in the same host, so the sandbox's own per-call cost is in both figures; the ratio
 * therefore understates the filter's share compared with a native host, never overstates it.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import wabtInit from "wabt";
import { type Headers, loadHost, type ProxyWasmHost } from "../sandbox/host/index.js";
import { type Bench, type BenchContext, type BenchEntry, entry } from "./results.js";

const HOST = "reviews.default.svc.cluster.local";
/** The benchmarks' canaried route: 90/10, sticky on x-user-id (also used by bench/envoy-rig.ts). */
export const BENCH_ROUTE = {
  host: HOST,
  canary: "default/reviews",
  variants: [
    { name: "stable", weight: 9000 },
    { name: "canary", weight: 1000 },
  ],
  sticky: { header: "x-user-id" },
};
const CONFIG = JSON.stringify({ routes: [BENCH_ROUTE] });
const GOAL_RATIO = 1.5;
/** Alternating rounds per module and path; each runs a third of the path's requests. */
const ROUNDS = 9;

/** The three decision paths and the request headers that take each. */
export const PATHS: Record<string, (i: number) => Headers> = {
  pin: () => [
    [":authority", `${HOST}:9080`],
    [":path", "/"],
    ["x-meshcanary-pin", "canary"],
  ],
  sticky: (i) => [
    [":authority", `${HOST}:9080`],
    [":path", "/"],
    ["x-user-id", `user-${i % 10_000}`],
  ],
  random: () => [
    [":authority", `${HOST}:9080`],
    [":path", "/"],
  ],
};

/** Compiles bench/fixtures/bare.wat with the wabt package. */
export function bareModule(): Promise<Uint8Array> {
  return compileWat("bare.wat", readFileSync(resolve("bench/fixtures/bare.wat"), "utf8"));
}

/** Compiles module text with the wabt package (no native toolchain needed). */
export async function compileWat(name: string, source: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat(name, source);
  try {
    mod.resolveNames();
    mod.validate();
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

function send(host: ProxyWasmHost, headers: Headers): void {
  host.request({ request: { headers }, response: { status: 200, bodyBytes: 100 }, durationNs: 1_000_000 });
}

/** Nanoseconds per request over `n` requests of one path. */
function timePath(host: ProxyWasmHost, path: (i: number) => Headers, n: number): number {
  const headers = Array.from({ length: Math.min(n, 10_000) }, (_, i) => path(i));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) send(host, headers[i % headers.length]);
  return Number(process.hrtime.bigint() - t0) / n;
}

/**
 * Best-of-ROUNDS ns/request for filter and bare, alternating so machine noise hits both; many
 * short rounds rather than a few long ones, so a shared machine still leaves each a quiet one.
 */
function comparePath(filter: ProxyWasmHost, bare: ProxyWasmHost, path: (i: number) => Headers, n: number) {
  timePath(filter, path, Math.ceil(n / 10));
  timePath(bare, path, Math.ceil(n / 10));
  const perRound = Math.ceil(n / 3);
  let f = Number.POSITIVE_INFINITY;
  let b = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    f = Math.min(f, timePath(filter, path, perRound));
    b = Math.min(b, timePath(bare, path, perRound));
  }
  return { filterNs: f, bareNs: b };
}

/** Linear memory before and after `n` requests cycling through every path. */
function memoryGrowth(host: ProxyWasmHost, n: number): { before: number; after: number } {
  const paths = Object.values(PATHS);
  for (let i = 0; i < 1000; i++) send(host, paths[i % paths.length](i));
  const before = host.memoryBytes();
  for (let i = 0; i < n; i++) send(host, paths[i % paths.length](i));
  return { before, after: host.memoryBytes() };
}

function sizes(ctx: BenchContext) {
  if (ctx.mode === "full") return { perPath: 200_000, soak: 10_000_000, cookies: 2000 };
  if (ctx.mode === "quick") return { perPath: 50_000, soak: 200_000, cookies: 500 };
  return { perPath: 2000, soak: 20_000, cookies: 20 };
}

/** Cookie headers of 60 KiB (inside Envoy's default 60 KiB header limit) the filter must parse. */
const COOKIE_BYTES = 60 * 1024;

/**
 * Per request with a 60 KiB Cookie of only `;` (no `=`: the pattern that was quadratic) against the
 * same size of ordinary `a=b; ` pairs, best of ROUNDS: both must be linear, so the ratio stays small.
 */
function adversarialCookie(filter: ProxyWasmHost, n: number): BenchEntry {
  const cookie = (text: string): Headers => [
    [":authority", `${HOST}:9080`],
    ["cookie", text.repeat(Math.ceil(COOKIE_BYTES / text.length)).slice(0, COOKIE_BYTES)],
  ];
  const hostile = cookie(";");
  const benign = cookie("a=b; ");
  let h = Number.POSITIVE_INFINITY;
  let b = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    h = Math.min(
      h,
      timePath(filter, () => hostile, n),
    );
    b = Math.min(
      b,
      timePath(filter, () => benign, n),
    );
  }
  return entry("filter-cost.adversarial-cookie.per-request", h, "ns (sandbox host)", {
    baseline: b,
    goal: "<= 3x",
    met: h / b <= 3,
    note: "baseline: a 60 KiB Cookie of ordinary pairs; hostile: 60 KiB of ';' with no '='",
  });
}

export const filterCost: Bench = {
  name: "filter-cost",
  async run(ctx) {
    const wasmPath = resolve("build/meshcanary.wasm");
    if (!existsSync(wasmPath)) {
      ctx.log("filter-cost: build/meshcanary.wasm missing (run make wasm); skipped");
      return [];
    }
    const n = sizes(ctx);
    const filter = await loadHost({
      module: new Uint8Array(readFileSync(wasmPath)),
      pluginConfig: CONFIG,
      timers: "manual",
    });
    const bare = await loadHost({ module: await bareModule(), pluginConfig: CONFIG, timers: "manual" });
    try {
      const out: BenchEntry[] = [];
      // Every path once on both before any timing: V8 compiles wasm with a baseline tier first and
      // optimises hot functions later, so the first path timed would otherwise pay for that.
      for (const path of Object.values(PATHS)) {
        timePath(filter, path, Math.ceil(n.perPath / 5));
        timePath(bare, path, Math.ceil(n.perPath / 5));
      }
      for (const [name, path] of Object.entries(PATHS)) {
        ctx.log(`filter-cost: ${name} path, ${Math.ceil(n.perPath / 3)} requests x ${ROUNDS} rounds`);
        const { filterNs, bareNs } = comparePath(filter, bare, path, n.perPath);
        out.push(
          entry(`filter-cost.${name}.per-request`, filterNs, "ns (sandbox host)", {
            baseline: bareNs,
            goal: `<= ${GOAL_RATIO}x`,
            met: filterNs / bareNs <= GOAL_RATIO,
            note: "baseline: bare.wat making the same host calls",
          }),
        );
      }
      ctx.log(`filter-cost: memory over ${n.soak} requests`);
      const fm = memoryGrowth(filter, n.soak);
      // The bare module's arena resets per request by construction; a tenth of the run shows it.
      const bm = memoryGrowth(bare, Math.ceil(n.soak / 10));
      out.push(
        entry("filter-cost.memory-growth", fm.after - fm.before, "bytes of linear memory", {
          baseline: bm.after - bm.before,
          goal: "== 0",
          met: fm.after === fm.before,
          note: `over ${n.soak} requests; filter memory ${fm.after} bytes`,
        }),
      );
      out.push(adversarialCookie(filter, n.cookies));
      return out;
    } finally {
      await filter.close();
      await bare.close();
    }
  },
};
