/**
 * Accepted deltas aggregated into per-canary 1-second windows by controller receive time, with a
 * bounded history. Adding is O(1) amortised (windows arrive in time order); reading is a binary search.
 */
import { collapseLowest, emptySketch, MAX_ACCUMULATED_BUCKETS, mergeInto, saturatingAdd } from "./sketch.js";
import type { MetricStats, VariantStats, WindowPoint } from "./types.js";
import { addUserGroups, emptyUserGroups } from "./user-groups.js";

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
  mergeInto(target.latencyUs, delta.latencyUs, MAX_ACCUMULATED_BUCKETS);
  for (const [name, m] of delta.metrics) {
    let t = target.metrics.get(name);
    if (!t) {
      t = { count: 0, sum: 0, sketch: emptySketch() };
      target.metrics.set(name, t);
    }
    t.count += m.count;
    t.sum = saturatingAdd(t.sum, m.sum);
    mergeInto(t.sketch, m.sketch, MAX_ACCUMULATED_BUCKETS);
  }
  if (delta.userGroups) {
    target.userGroups ??= emptyUserGroups();
    addUserGroups(target.userGroups, delta.userGroups);
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

/** Buckets a sketch of a closed window keeps (its lowest are collapsed; upper quantiles stay). */
export const CLOSED_WINDOW_BUCKETS = 64;
/**
 * Most buckets all closed windows hold together; past it the oldest windows' sketches are
 * collapsed to one bucket each. With MAX_ACCUMULATED_BUCKETS per open sketch, this bounds the
 * controller's memory whatever reporters send (issue: 8 variants x 9 sketches x 4,096 buckets
 * every quarter second once filled 320 MiB in 31 s).
 */
export const CLOSED_BUCKETS_BUDGET = 500_000;

/** A closed window and the buckets its sketches hold, oldest first. */
interface ClosedWindow {
  point: WindowPoint;
  buckets: number;
}

/** Calls `f` on every sketch of a window (latency and metrics of every variant, pooled and per group). */
function eachSketch(point: WindowPoint, f: (s: VariantStats["latencyUs"]) => void): void {
  const sets = [point.variants, ...(point.groups?.values() ?? [])];
  for (const variants of sets) {
    for (const v of variants.values()) {
      f(v.latencyUs);
      for (const m of v.metrics.values()) f(m.sketch);
    }
  }
}

/** The stats of `variant` in `variants`, created empty if needed. */
function statsIn(variants: Map<string, VariantStats>, variant: string): VariantStats {
  let stats = variants.get(variant);
  if (!stats) {
    stats = emptyStats();
    variants.set(variant, stats);
  }
  return stats;
}

/** Recomputes a split window's pooled stats as the sum of its groups. */
function pool(point: WindowPoint): void {
  point.variants = new Map();
  for (const variants of point.groups?.values() ?? []) {
    for (const [variant, stats] of variants) addStats(statsIn(point.variants, variant), stats);
  }
}

/**
 * Per-canary windows. The newest window may still be filling when read. Data added with a reporter
 * group is kept per group, and the pooled stats are their sum (recomputed when read or closed);
 * use one Windows either with groups or without.
 */
export class Windows {
  private readonly byCanary = new Map<string, WindowPoint[]>();
  /** Split windows whose pooled stats are behind their groups. */
  private readonly stale = new Set<WindowPoint>();
  private readonly closed: ClosedWindow[] = [];
  private closedBuckets = 0;

  /**
   * @param historyMs how long windows are kept (by receive time of the newest data).
   * @param budget most buckets of closed windows together (CLOSED_BUCKETS_BUDGET).
   */
  constructor(
    private readonly historyMs = 30 * 60 * 1000,
    private readonly budget = CLOSED_BUCKETS_BUDGET,
  ) {}

  /** Buckets held by closed windows (at most the budget, plus one per window collapsed for it). */
  closedBucketCount(): number {
    return this.closedBuckets;
  }

  add(canary: string, variant: string, delta: VariantStats, receivedMs: number, group?: number): void {
    addStats(this.statsAt(canary, variant, receivedMs, group), delta);
  }

  /**
   * The accumulating stats of (canary, variant) in the window of `receivedMs`, created empty if
   * needed: ingest adds each Report's change straight into it, with no delta object in between.
   * With a `group`, that reporter group's stats.
   */
  statsAt(canary: string, variant: string, receivedMs: number, group?: number): VariantStats {
    const startMs = receivedMs - (receivedMs % RESOLUTION_MS);
    let points = this.byCanary.get(canary);
    if (!points) {
      points = [];
      this.byCanary.set(canary, points);
    }
    const point = this.pointAt(points, startMs);
    this.expire(points, startMs);
    if (group === undefined) return statsIn(point.variants, variant);
    point.groups ??= new Map();
    let variants = point.groups.get(group);
    if (!variants) {
      variants = new Map();
      point.groups.set(group, variants);
    }
    this.stale.add(point);
    return statsIn(variants, variant);
  }

  private fresh(point: WindowPoint): WindowPoint {
    if (this.stale.delete(point)) pool(point);
    return point;
  }

  private pointAt(points: WindowPoint[], startMs: number): WindowPoint {
    const last = points[points.length - 1];
    if (last && last.startMs === startMs) return last;
    if (!last || last.startMs < startMs) {
      if (last) this.close(last, startMs);
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

  /** Coarsens a window that stopped filling, and the oldest ones while over the budget. */
  private close(point: WindowPoint, nowStartMs: number): void {
    this.fresh(point);
    let buckets = 0;
    eachSketch(point, (s) => {
      collapseLowest(s, CLOSED_WINDOW_BUCKETS);
      buckets += s.buckets.size;
    });
    this.closed.push({ point, buckets });
    this.closedBuckets += buckets;
    const cutoff = nowStartMs - this.historyMs;
    while (
      this.closed.length > 0 &&
      (this.closedBuckets > this.budget || this.closed[0]!.point.startMs < cutoff)
    ) {
      const oldest = this.closed.shift()!;
      this.closedBuckets -= oldest.buckets;
      // Still in the history: kept with one bucket per sketch (counts and sums exact), until it expires.
      if (oldest.point.startMs >= cutoff) eachSketch(oldest.point, (s) => collapseLowest(s, 1));
    }
  }

  private expire(points: WindowPoint[], newestMs: number): void {
    const cutoff = newestMs - this.historyMs;
    if (points[0]!.startMs >= cutoff) return;
    for (const p of points.splice(0, lowerBound(points, cutoff))) this.stale.delete(p);
  }

  /** Windows of a canary with startMs in [fromMs, toMs), oldest first. */
  series(canary: string, fromMs: number, toMs: number): WindowPoint[] {
    const points = this.byCanary.get(canary);
    if (!points) return [];
    return points.slice(lowerBound(points, fromMs), lowerBound(points, toMs)).map((p) => this.fresh(p));
  }

  /** Drops windows older than the history for canaries that no longer receive data. */
  expireAll(nowMs: number): void {
    for (const [canary, points] of this.byCanary) {
      const cutoff = nowMs - this.historyMs;
      for (const p of points.splice(0, lowerBound(points, cutoff))) this.stale.delete(p);
      if (points.length === 0) this.byCanary.delete(canary);
    }
  }
}
