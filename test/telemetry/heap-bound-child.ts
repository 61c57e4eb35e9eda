// Child process of heap-bound.test.ts, run under the Deployment's heap cap: one reporter sends
// in-bounds but maximally spread reports (8 variants x (latency + 8 metrics) x 4,096 buckets) every
// 250 ms of a simulated clock through the telemetry pipeline (bounds, per-entry checks, ingest into
// 1-second windows). Prints heap figures as JSON; an out-of-memory abort is the failure it guards.
import { create } from "@bufbuild/protobuf";
import { ReportSchema, type Sketch, SketchSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { checkEntries, checkReport, DEFAULT_BOUNDS } from "../../controller/telemetry/bounds.js";
import { Ingest } from "../../controller/telemetry/ingest.js";
import { Windows } from "../../controller/telemetry/windows.js";

const BUCKETS = 4096;
const reports = Number(process.argv[2] ?? 480);

function sketch(): Sketch {
  return create(SketchSchema, {
    count: 0n,
    indexes: Array.from({ length: BUCKETS }, (_, i) => i * 8),
    counts: Array.from({ length: BUCKETS }, () => 0n),
  });
}

const report = create(ReportSchema, {
  reporter: { pod: "evil", namespace: "attacker", instanceId: "i1", startTimeUnixMs: 1n },
  totals: Array.from({ length: 8 }, (_, v) => ({
    canary: "default/target",
    variant: `v${v}`,
    latencyUs: sketch(),
    metrics: Array.from({ length: 8 }, (_, m) => ({ name: `m${m}`, sketch: sketch() })),
  })),
});

/** Cumulative totals after `n` reports: every bucket of every sketch counted n times. */
function advanceTo(n: number): void {
  const c = BigInt(n);
  const perSketch = c * BigInt(BUCKETS);
  report.seq = c;
  for (const t of report.totals) {
    t.requests = perSketch;
    t.status2xx = perSketch;
    for (const s of [t.latencyUs!, ...t.metrics.map((m) => m.sketch!)]) {
      s.count = perSketch;
      s.counts.fill(c);
    }
    for (const m of t.metrics) m.count = perSketch;
  }
}

const cfg = { ...DEFAULT_BOUNDS, isKnownCanary: () => true };
const ingest = new Ingest();
const windows = new Windows();
let peak = 0;
const t0 = 1_700_000_000_000;
for (let n = 1; n <= reports; n++) {
  advanceTo(n);
  const now = t0 + n * 250;
  if (checkReport(report, 1, cfg)) throw new Error("refused");
  const dropped = checkEntries(report, cfg);
  if (dropped.length > 0) throw new Error(`dropped: ${dropped[0]!.violation.reason}`);
  ingest.apply(report, now, (c, v) => windows.statsAt(c, v, now));
  if (n % 100 === 0) {
    global.gc?.();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
}
global.gc?.();
const heapUsed = process.memoryUsage().heapUsed;
process.stdout.write(
  JSON.stringify({
    reports,
    heapUsed,
    peak: Math.max(peak, heapUsed),
    closedBuckets: windows.closedBucketCount(),
  }),
);
