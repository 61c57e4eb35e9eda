// The controller's telemetry memory has a hard bound whatever reporters send: adversarial in-bounds
// reports (8 variants x 9 sketches x 4,096 buckets at 4/s, simulated clock) run in a child node
// process under the Deployment's heap cap (--max-old-space-size=320). Before the per-window sketch
// cap and budget, each 1-second window kept ~295k buckets and the heap passed 320 MiB in ~124 reports.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const child = fileURLToPath(new URL("./heap-bound-child.ts", import.meta.url));
const MiB = 1024 * 1024;

describe("controller telemetry heap bound", () => {
  it("stays under the 320 MiB heap cap through 2 simulated minutes (past the bucket budget) of maximally spread reports", () => {
    const out = execFileSync(
      process.execPath,
      ["--max-old-space-size=320", "--expose-gc", "--import", "tsx", child, "480"],
      { encoding: "utf8", timeout: 170_000, maxBuffer: MiB },
    );
    const r = JSON.parse(out) as { reports: number; peak: number; closedBuckets: number };
    expect(r.reports).toBe(480);
    expect(r.closedBuckets).toBeLessThanOrEqual(500_000);
    expect(r.peak).toBeLessThan(200 * MiB);
  }, 180_000);
});
