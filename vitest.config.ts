import { defineConfig } from "vitest/config";

/**
 * Files that run real data planes (Envoy, the sandbox sidecar) under live traffic, a kube-apiserver,
 * Chromium or the benchmarks, or measure the heap: on a 2-core machine each needs the machine to
 * itself, so they run one file at a time.
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
 * MESHCANARY_TEST_GROUP picks a part of the suite (`make test-only` runs "light" then "heavy"):
 * "light" = every other file, two at a time (pure logic, simulated reporters, the embedded API);
 * "heavy" = HEAVY, one at a time. Unset: every file, one at a time.
 */
function group(value: string | undefined) {
  if (value === undefined || value === "") return { include: ["test/**/*.test.ts"], exclude: [], workers: 1 };
  if (value === "light") return { include: ["test/**/*.test.ts"], exclude: HEAVY, workers: 2 };
  if (value === "heavy")
    return { include: HEAVY.map((g) => (g.endsWith("**") ? `${g}/*.test.ts` : g)), exclude: [], workers: 1 };
  throw new Error(`MESHCANARY_TEST_GROUP: unknown group ${JSON.stringify(value)}; known: light, heavy`);
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
