/**
 * Accepted deltas aggregated into per-canary 1-second windows by controller receive time, with a
 * bounded history. Adding is O(1) amortised (windows arrive in time order); reading is a binary search.
 */
import { emptySketch, mergeInto, saturatingAdd } from "./sketch.js";
import type { MetricStats, VariantStats, WindowPoint } from "./types.js";

/** Window width, ms. */
export const RESOLUTION_MS = 1000;

export function emptyStats(): VariantStats {
  return {
    requests: 0,
    failures: 0,
    statusNone: 0,
    status1xx: 0,
    status2xx: 0,
    status3xx: 0,
    status4xx: 0,
    status5xx: 0,
    latencyUs: emptySketch(),
    responseBytes: 0,
    metrics: new Map(),
  };
}

/**
 * Stats of requests that either succeeded (2xx) or failed (5xx): the shape simulations, tests and
 * benchmarks build windows from.
 */
export function countStats(
  requests: number,
  failures: number,
  latencyUs = emptySketch(),
  metrics = new Map<string, MetricStats>(),
): VariantStats {
  return {
    ...emptyStats(),
    requests,
    failures,
    status2xx: requests - failures,
    status5xx: failures,
    latencyUs,
    metrics,
  };
}

/** target += delta, in place. */
export function addStats(target: VariantStats, delta: VariantStats): void {
  target.requests += delta.requests;
  target.failures += delta.failures;
  target.statusNone += delta.statusNone;
  target.status1xx += delta.status1xx;
  target.status2xx += delta.status2xx;
  target.status3xx += delta.status3xx;
  target.status4xx += delta.status4xx;
  target.status5xx += delta.status5xx;
  target.responseBytes += delta.responseBytes;
  mergeInto(target.latencyUs, delta.latencyUs);
  for (const [name, m] of delta.metrics) {
    let t = target.metrics.get(name);
    if (!t) {
      t = { count: 0, sum: 0, sketch: emptySketch() };
      target.metrics.set(name, t);
    }
    t.count += m.count;
    t.sum = saturatingAdd(t.sum, m.sum);
    mergeInto(t.sketch, m.sketch);
  }
}

/** Index of the first point with startMs >= ms (points ascending). */
function lowerBound(points: WindowPoint[], ms: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.startMs < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Per-canary windows. The newest window may still be filling when read. */
export class Windows {
  private readonly byCanary = new Map<string, WindowPoint[]>();

  /** @param historyMs how long windows are kept (by receive time of the newest data). */
  constructor(private readonly historyMs = 30 * 60 * 1000) {}

  add(canary: string, variant: string, delta: VariantStats, receivedMs: number): void {
    addStats(this.statsAt(canary, variant, receivedMs), delta);
  }

  /**
   * The accumulating stats of (canary, variant) in the window of `receivedMs`, created empty if
   * needed: ingest adds each Report's change straight into it, with no delta object in between.
   */
  statsAt(canary: string, variant: string, receivedMs: number): VariantStats {
    const startMs = receivedMs - (receivedMs % RESOLUTION_MS);
    let points = this.byCanary.get(canary);
    if (!points) {
      points = [];
      this.byCanary.set(canary, points);
    }
    const point = this.pointAt(points, startMs);
    let stats = point.variants.get(variant);
    if (!stats) {
      stats = emptyStats();
      point.variants.set(variant, stats);
    }
    this.expire(points, startMs);
    return stats;
  }

  private pointAt(points: WindowPoint[], startMs: number): WindowPoint {
    const last = points[points.length - 1];
    if (last && last.startMs === startMs) return last;
    if (!last || last.startMs < startMs) {
      const p: WindowPoint = { startMs, variants: new Map() };
      points.push(p);
      return p;
    }
    // The clock stepped back: find or insert the window in order.
    const i = lowerBound(points, startMs);
    if (points[i]?.startMs === startMs) return points[i]!;
    const p: WindowPoint = { startMs, variants: new Map() };
    points.splice(i, 0, p);
    return p;
  }

  private expire(points: WindowPoint[], newestMs: number): void {
    const cutoff = newestMs - this.historyMs;
    if (points[0]!.startMs >= cutoff) return;
    points.splice(0, lowerBound(points, cutoff));
  }

  /** Windows of a canary with startMs in [fromMs, toMs), oldest first. */
  series(canary: string, fromMs: number, toMs: number): WindowPoint[] {
    const points = this.byCanary.get(canary);
    if (!points) return [];
    return points.slice(lowerBound(points, fromMs), lowerBound(points, toMs));
  }

  /** Drops windows older than the history for canaries that no longer receive data. */
  expireAll(nowMs: number): void {
    for (const [canary, points] of this.byCanary) {
      const cutoff = nowMs - this.historyMs;
      points.splice(0, lowerBound(points, cutoff));
      if (points.length === 0) this.byCanary.delete(canary);
    }
  }
}
