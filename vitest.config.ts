import { defineConfig } from "vitest/config";

/**
 * Files that run real data planes (Envoy, the sandbox sidecar) under live traffic, a kube-apiserver,
 * Chromium or the benchmarks, or measure the heap: kept apart from the light files. Most of their
 * time is spent waiting for live traffic's evidence and timers, not computing (two at a time, each
 * file took about as long as alone), so they run two at a time, except SOLO.
 */
export const HEAVY = [
  "test/envoy/**",
  "test/demo/**",
  "test/reliability/**",
  "test/kube-real/**",
  "test/bench/**",
  "test/mesh-e2e/**",
  "test/api/dashboard.browser.test.ts",
  "test/telemetry/heap-bound.test.ts",
];

/**
 * The HEAVY files that need the machine to themselves, one at a time: the benchmarks and the heap
 * bound measure CPU, latency and memory, which a second file beside them would skew; the mesh suite
 * is sized for a machine of its own; the sandbox dashboard's screenshot waits for a CPU-bound
 * TypeScript sidecar's evidence within a fixed time.
 */
export const SOLO = [
  "test/bench/**",
  "test/mesh-e2e/**",
  "test/telemetry/heap-bound.test.ts",
  "test/demo/dashboard.sandbox.browser.test.ts",
];

const files = (globs: string[]) => globs.map((g) => (g.endsWith("**") ? `${g}/*.test.ts` : g));

/**
 * MESHCANARY_TEST_GROUP picks a part of the suite (`make test-only` runs "light", "heavy", "solo"):
 * "light" = every file not in HEAVY, two at a time (pure logic, simulated reporters, the embedded API);
 * "heavy" = HEAVY without SOLO, two at a time; "solo" = SOLO, one at a time.
 * Unset: every file, one at a time.
 */
function group(value: string | undefined) {
  if (value === undefined || value === "") return { include: ["test/**/*.test.ts"], exclude: [], workers: 1 };
  if (value === "light") return { include: ["test/**/*.test.ts"], exclude: HEAVY, workers: 2 };
  if (value === "heavy") return { include: files(HEAVY), exclude: SOLO, workers: 2 };
  if (value === "solo") return { include: files(SOLO), exclude: [], workers: 1 };
  throw new Error(`MESHCANARY_TEST_GROUP: unknown group ${JSON.stringify(value)}; known: light, heavy, solo`);
}

const chosen = group(process.env.MESHCANARY_TEST_GROUP);

export default defineConfig({
  test: {
    include: chosen.include,
    exclude: ["**/node_modules/**", ...chosen.exclude],
    pool: "forks",
    maxWorkers: chosen.workers,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
