/** Telemetry windows built from explicit request lists, for the series and metrics tests. */
import { emptySketch, record } from "../../controller/telemetry/sketch.js";
import type { VariantStats, WindowPoint } from "../../controller/telemetry/types.js";
import { emptyStats } from "../../controller/telemetry/windows.js";

/** One request: latency in ms, failed or not, custom metric values. */
export interface Req {
  ms: number;
  failed?: boolean;
  metrics?: Record<string, number>;
}

export function stats(reqs: Req[]): VariantStats {
  const s = emptyStats();
  for (const r of reqs) {
    s.requests++;
    if (r.failed) {
      s.failures++;
      s.status5xx++;
    } else s.status2xx++;
    record(s.latencyUs, r.ms * 1000);
    for (const [name, v] of Object.entries(r.metrics ?? {})) {
      let m = s.metrics.get(name);
      if (!m) {
        m = { count: 0, sum: 0, sketch: emptySketch() };
        s.metrics.set(name, m);
      }
      m.count++;
      m.sum += v;
      record(m.sketch, v);
    }
  }
  return s;
}

export function windowOf(startMs: number, variants: Record<string, Req[]>): WindowPoint {
  return { startMs, variants: new Map(Object.entries(variants).map(([k, reqs]) => [k, stats(reqs)])) };
}

/** n identical requests. */
export function times(n: number, req: Req): Req[] {
  return Array.from({ length: n }, () => req);
}
