/**
 * Sticky quality (DESIGN §7 "sticky"): realised canary share of distinct users against the weight,
 * and canary→stable flips while the weight ramps 1% → 100%.
 *
 * meshcanary: the sticky hash (TS twin, controller/mesh/sticky-hash.ts), canary owning the top
 * bucket range; with build/meshcanary.wasm present, the real filter in the sandbox host at 10k users
 * (and its decisions compared one by one with the twin).
 * Baselines: for the split, the standard deviation of a perfectly random assignment (ratio ≈ 1 means
 * the hash is as good as random; a naive unsalted `hashCode(key) mod 100` is noted for contrast —
 * it spreads sequential ids evenly but picks the same users in every rollout); for flips,
 * per-request weighted random (Istio weighted destinations without stickiness).
 * Keys are sequential ("user-1", "user-2", …) — what real ids look like and what weak hashes fail on.
 * The split error is the RMS over 20 cohorts (salts), since one cohort is one random draw.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { mulberry32 } from "../controller/analysis/simulate.js";
import { BUCKETS, stickyBucket } from "../controller/mesh/sticky-hash.js";
import { loadHost, type ProxyWasmHost } from "../sandbox/host/index.js";
import { type Bench, type BenchContext, type BenchEntry, entry } from "./results.js";

/** Canary weights measured, in percent. */
export const WEIGHTS_PCT = [1, 5, 10, 25, 50];
/** The ramp for the flip check, in percent. */
export const RAMP_PCT = [1, 2, 5, 10, 20, 25, 50, 75, 100];
const COHORTS = 20;
const GOAL_PP = 0.5;
const HOST = "reviews.default.svc.cluster.local";
const USER_HEADER = "x-user-id";

/** The user key of user i. */
export function userKey(i: number): string {
  return `user-${i}`;
}

/** Whether meshcanary's sticky split sends this key to the canary at `weightBp` basis points. */
export function meshcanaryCanary(cohort: string, key: string, weightBp: number): boolean {
  return stickyBucket(cohort, key) >= BUCKETS - weightBp;
}

/** Java's String.hashCode, as naive implementations use. */
export function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** The naive baseline: |hashCode| mod 100 below the weight in percent. */
export function naiveCanary(key: string, weightPct: number): boolean {
  return Math.abs(javaHash(key)) % 100 < weightPct;
}

/** Canary share (percent) of users 0..n−1 under `isCanary`. */
export function realisedPct(n: number, isCanary: (key: string) => boolean): number {
  let canary = 0;
  for (let i = 0; i < n; i++) if (isCanary(userKey(i))) canary++;
  return (100 * canary) / n;
}

/** RMS and max |realised − weight| in percentage points over COHORTS salts. */
export function splitError(users: number, weightPct: number): { rms: number; max: number } {
  let sq = 0;
  let max = 0;
  for (let c = 0; c < COHORTS; c++) {
    const d = realisedPct(users, (k) => meshcanaryCanary(`cohort-${c}`, k, weightPct * 100)) - weightPct;
    sq += d * d;
    max = Math.max(max, Math.abs(d));
  }
  return { rms: Math.sqrt(sq / COHORTS), max };
}

/** Users seen on the canary at one ramp step and on stable at the next, summed over the ramp. */
export function countFlips(users: number, canaryAt: (user: number, step: number) => boolean): number {
  let flips = 0;
  for (let i = 0; i < users; i++) {
    let wasCanary = canaryAt(i, 0);
    for (let s = 1; s < RAMP_PCT.length; s++) {
      const now = canaryAt(i, s);
      if (wasCanary && !now) flips++;
      wasCanary = now;
    }
  }
  return flips;
}

function routeConfig(weightBp: number, cohort: string): string {
  return JSON.stringify({
    routes: [
      {
        host: HOST,
        canary: "default/reviews",
        variants: [
          { name: "stable", weight: BUCKETS - weightBp },
          { name: "canary", weight: weightBp },
        ],
        sticky: { header: USER_HEADER },
        cohort,
      },
    ],
  });
}

/** The variant the real filter sets for one user. */
function filterVariant(host: ProxyWasmHost, key: string): string | undefined {
  const r = host.request({
    request: {
      headers: [
        [":authority", `${HOST}:9080`],
        [":path", "/"],
        [USER_HEADER, key],
      ],
    },
    response: { status: 200 },
    durationNs: 1_000_000,
  });
  return r.requestHeaders.find(([k]) => k === "x-meshcanary-variant")?.[1];
}

function configure(host: ProxyWasmHost, weightBp: number, cohort: string): void {
  const r = host.configure(routeConfig(weightBp, cohort));
  if (!r.ok) throw new Error(`filter rejected configuration for weight ${weightBp}: ${r.error}`);
}

/** Through the real filter: realised share per weight, disagreements with the twin, ramp flips. */
async function filterFigures(wasm: Uint8Array, users: number, rampUsers: number) {
  const cohort = "cohort-0";
  const host = await loadHost({
    module: wasm,
    workers: 2,
    pluginConfig: routeConfig(0, cohort),
    timers: "manual",
  });
  try {
    const split: { weightPct: number; realised: number }[] = [];
    let disagreements = 0;
    for (const w of WEIGHTS_PCT) {
      configure(host, w * 100, cohort);
      let canary = 0;
      for (let i = 0; i < users; i++) {
        const isCanary = filterVariant(host, userKey(i)) === "canary";
        if (isCanary) canary++;
        if (isCanary !== meshcanaryCanary(cohort, userKey(i), w * 100)) disagreements++;
      }
      split.push({ weightPct: w, realised: (100 * canary) / users });
    }
    const seen: boolean[][] = RAMP_PCT.map((w) => {
      configure(host, w * 100, cohort);
      return Array.from({ length: rampUsers }, (_, i) => filterVariant(host, userKey(i)) === "canary");
    });
    const flips = countFlips(rampUsers, (i, step) => seen[step][i]);
    return { split, disagreements, flips };
  } finally {
    await host.close();
  }
}

function sizes(ctx: BenchContext) {
  if (ctx.mode === "full") return { users: [1000, 10_000, 100_000], rampUsers: 100_000, filterUsers: 10_000 };
  if (ctx.mode === "quick") return { users: [1000, 10_000], rampUsers: 10_000, filterUsers: 10_000 };
  return { users: [1000], rampUsers: 2000, filterUsers: 1000 };
}

/** Standard deviation (pp) of a perfectly random assignment: the floor for any unbiased hash. */
export function binomialSdPct(users: number, weightPct: number): number {
  const p = weightPct / 100;
  return 100 * Math.sqrt((p * (1 - p)) / users);
}

function splitEntries(users: number): BenchEntry[] {
  const out: BenchEntry[] = [];
  for (const w of WEIGHTS_PCT) {
    const err = splitError(users, w);
    const floor = binomialSdPct(users, w);
    // Where even a perfectly random assignment has an sd of 0.5 pp (50% at 10k), ±0.5 pp is not a
    // property a hash can have; the ratio to the binomial floor is the figure that matters there.
    const judged = users === 10_000 && floor < GOAL_PP;
    const naive = Math.abs(realisedPct(users, (k) => naiveCanary(k, w)) - w);
    out.push(
      entry(`sticky.split-error.${users}users.w${w}pct`, err.rms, "pp (RMS over 20 cohorts)", {
        baseline: floor,
        goal: judged ? `<= ${GOAL_PP} pp` : null,
        met: judged ? err.rms <= GOAL_PP : null,
        note: `baseline: sd of a perfectly random split; max ${err.max.toFixed(2)} pp; naive unsalted hashCode mod 100: ${naive.toFixed(2)} pp`,
      }),
    );
  }
  return out;
}

function flipEntry(users: number): BenchEntry {
  const flips = countFlips(users, (i, s) => meshcanaryCanary("cohort-0", userKey(i), RAMP_PCT[s] * 100));
  const rng = mulberry32(7);
  const randomFlips = countFlips(users, (_i, s) => rng() * 100 < RAMP_PCT[s]);
  return entry(`sticky.ramp-flips.${users}users`, flips, "canary->stable flips", {
    baseline: randomFlips,
    goal: "== 0",
    met: flips === 0,
    note: `ramp ${RAMP_PCT.join(",")}%; baseline: per-request weighted random`,
  });
}

function filterEntries(f: Awaited<ReturnType<typeof filterFigures>>, users: number, rampUsers: number) {
  const out: BenchEntry[] = f.split.map(({ weightPct, realised }) =>
    entry(`sticky.filter.split-error.${users}users.w${weightPct}pct`, Math.abs(realised - weightPct), "pp", {
      note: "real filter in the sandbox host, one cohort",
    }),
  );
  out.push(
    entry("sticky.filter.twin-disagreements", f.disagreements, "decisions", {
      goal: "== 0",
      met: f.disagreements === 0,
      note: `${users * WEIGHTS_PCT.length} decisions, filter vs TS twin`,
    }),
    entry(`sticky.filter.ramp-flips.${rampUsers}users`, f.flips, "canary->stable flips", {
      goal: "== 0",
      met: f.flips === 0,
    }),
  );
  return out;
}

export const sticky: Bench = {
  name: "sticky",
  async run(ctx) {
    const n = sizes(ctx);
    const out: BenchEntry[] = [];
    for (const users of n.users) {
      ctx.log(`sticky: split at ${users} users`);
      out.push(...splitEntries(users));
    }
    out.push(flipEntry(n.rampUsers));
    const wasmPath = resolve("build/meshcanary.wasm");
    if (!existsSync(wasmPath)) {
      ctx.log("sticky: build/meshcanary.wasm missing (run make wasm); filter figures skipped");
      return out;
    }
    ctx.log(`sticky: real filter, ${n.filterUsers} users`);
    const rampUsers = Math.min(n.filterUsers, 5000);
    const f = await filterFigures(new Uint8Array(readFileSync(wasmPath)), n.filterUsers, rampUsers);
    out.push(...filterEntries(f, n.filterUsers, rampUsers));
    return out;
  },
};
