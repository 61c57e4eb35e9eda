/**
 * The TypeScript side of the filter's latency/metric sketch (DESIGN §3, proto Sketch):
 * a sparse DDSketch-style log-bucketed histogram. Bucket i holds v with gamma^(i-1) < v <= gamma^i;
 * values below 1 go to the zero bucket. Pure data + functions; mergeable and subtractable (deltas).
 */

/** Bucket growth factor; relative error (gamma-1)/(gamma+1) < 1%. Same constant as filter/sketch.ts. */
export const GAMMA = 1.0202;
const LN_GAMMA = Math.log(GAMMA);

/** A sketch as plain data. `buckets` maps bucket index to count (only non-zero entries). */
export interface Sketch {
  count: number;
  zeroCount: number;
  sum: number;
  buckets: Map<number, number>;
  /**
   * Set once the sketch was collapsed (collapseLowest): values of lower buckets are counted in this
   * one. Upper quantiles stay exact to the bucket; lower ones read high.
   */
  floor?: number;
}

/**
 * Most buckets a sketch that accumulates deltas (a window's) may grow to before its lowest buckets
 * are collapsed to half of it: whatever reporters send, one window sketch stays this small.
 */
export const MAX_ACCUMULATED_BUCKETS = 512;

/**
 * a + b for finite a and b, held at ±Number.MAX_VALUE instead of overflowing to ±Infinity: sums of
 * hostile but finite metric values stay finite, so no mean or test statistic turns into NaN.
 */
export function saturatingAdd(a: number, b: number): number {
  const r = a + b;
  if (Number.isFinite(r)) return r;
  return r > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
}

export function emptySketch(): Sketch {
  return { count: 0, zeroCount: 0, sum: 0, buckets: new Map() };
}

/** Bucket index for a value >= 1. */
export function bucketIndex(value: number): number {
  return Math.ceil(Math.log(value) / LN_GAMMA);
}

/** The value reported for a bucket: the point with equal relative error to both edges. */
export function bucketValue(index: number): number {
  return (2 * GAMMA ** index) / (GAMMA + 1);
}

export function record(s: Sketch, value: number, times = 1): void {
  s.count += times;
  s.sum += value * times;
  if (value < 1) {
    s.zeroCount += times;
    return;
  }
  const i = bucketIndex(value);
  s.buckets.set(i, (s.buckets.get(i) ?? 0) + times);
}

/** a + b, as a new sketch. */
export function merge(a: Sketch, b: Sketch): Sketch {
  const out: Sketch = {
    count: a.count + b.count,
    zeroCount: a.zeroCount + b.zeroCount,
    sum: saturatingAdd(a.sum, b.sum),
    buckets: new Map(a.buckets),
  };
  for (const [i, c] of b.buckets) out.buckets.set(i, (out.buckets.get(i) ?? 0) + c);
  return out;
}

/**
 * target += source, in place (for accumulating windows without allocating a sketch per add);
 * a window passes MAX_ACCUMULATED_BUCKETS as `maxBuckets`, a one-off merge for reading need not.
 */
export function mergeInto(target: Sketch, source: Sketch, maxBuckets = Number.POSITIVE_INFINITY): void {
  target.count += source.count;
  target.zeroCount += source.zeroCount;
  target.sum = saturatingAdd(target.sum, source.sum);
  for (const [i, c] of source.buckets) addToBucket(target, i, c, maxBuckets);
}

/**
 * Adds `count` to bucket `index` of an accumulating sketch, keeping it within
 * MAX_ACCUMULATED_BUCKETS: an index below the floor goes to the floor, and past the limit the
 * lowest buckets are collapsed (amortised O(log n) per new bucket).
 */
export function addToBucket(
  s: Sketch,
  index: number,
  count: number,
  maxBuckets = MAX_ACCUMULATED_BUCKETS,
): void {
  const i = s.floor !== undefined && index < s.floor ? s.floor : index;
  s.buckets.set(i, (s.buckets.get(i) ?? 0) + count);
  if (s.buckets.size > maxBuckets) collapseLowest(s, Math.ceil(maxBuckets / 2));
}

/** Folds all but the `keep` highest buckets into the lowest one kept (DDSketch's collapsing-lowest). */
export function collapseLowest(s: Sketch, keep: number): void {
  if (s.buckets.size <= keep) return;
  const indexes = [...s.buckets.keys()].sort((a, b) => a - b);
  const floor = indexes[indexes.length - keep]!;
  let folded = 0;
  for (const i of indexes) {
    if (i >= floor) break;
    folded += s.buckets.get(i)!;
    s.buckets.delete(i);
  }
  s.buckets.set(floor, s.buckets.get(floor)! + folded);
  s.floor = floor;
}

/**
 * later - earlier, for cumulative sketches of one reporter instance. Returns an error value
 * (not a throw) when any count would go negative: cumulative totals never shrink.
 */
export function subtract(later: Sketch, earlier: Sketch): Sketch | Error {
  if (later.count < earlier.count || later.zeroCount < earlier.zeroCount) {
    return new Error(`sketch count went backwards (${earlier.count} -> ${later.count})`);
  }
  const buckets = new Map<number, number>();
  for (const [i, c] of later.buckets) {
    const d = c - (earlier.buckets.get(i) ?? 0);
    if (d < 0) return new Error(`sketch bucket ${i} went backwards`);
    if (d > 0) buckets.set(i, d);
  }
  for (const [i, c] of earlier.buckets) {
    if (!later.buckets.has(i) && c > 0) return new Error(`sketch bucket ${i} disappeared`);
  }
  return {
    count: later.count - earlier.count,
    zeroCount: later.zeroCount - earlier.zeroCount,
    sum: later.sum - earlier.sum,
    buckets,
  };
}

/** Quantile q in [0,1] by nearest rank (rank ceil(q*count), at least 1); NaN for an empty sketch. */
export function quantile(s: Sketch, q: number): number {
  if (s.count === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * s.count));
  if (rank <= s.zeroCount) return 0;
  let seen = s.zeroCount;
  for (const i of [...s.buckets.keys()].sort((x, y) => x - y)) {
    seen += s.buckets.get(i)!;
    if (seen >= rank) return bucketValue(i);
  }
  return bucketValue(Math.max(...s.buckets.keys()));
}

/** Number of recorded values above `threshold` (bucket resolution: buckets wholly above it). */
export function countAbove(s: Sketch, threshold: number): number {
  if (threshold < 1) return s.count - s.zeroCount;
  const cut = bucketIndex(threshold);
  let n = 0;
  for (const [i, c] of s.buckets) if (i > cut) n += c;
  return n;
}
