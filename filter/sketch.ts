// The log-bucketed sketch (same definition as controller/telemetry/sketch.ts): bucket i holds v with
// gamma^(i-1) < v <= gamma^i, i = ceil(ln v / ln gamma) for v >= 1; values below 1 go to the zero
// bucket. Stored sparsely in SketchData's parallel sorted arrays. Pure AssemblyScript.

import { SketchData } from "./wire";

/** Bucket growth factor; relative error (gamma-1)/(gamma+1) < 1%. */
export const GAMMA: f64 = 1.0202;
const LN_GAMMA: f64 = Math.log(GAMMA);

/** Bucket index of a value >= 1. */
export function bucketIndex(value: f64): i32 {
  return <i32>Math.ceil(Math.log(value) / LN_GAMMA);
}

/** The value a bucket stands for: equal relative error to both edges. */
export function bucketValue(index: i32): f64 {
  return (2 * Math.pow(GAMMA, <f64>index)) / (GAMMA + 1);
}

/**
 * a + b held at ±f64.MAX_VALUE rather than overflowing: a sum is sent to the controller, which
 * refuses a non-finite one, so a hostile upstream header must never make it Infinity (or NaN).
 * A non-finite b adds nothing.
 */
export function saturatingAdd(a: f64, b: f64): f64 {
  if (!isFinite(b)) return a;
  const r = a + b;
  if (isFinite(r)) return r;
  return r > 0 ? f64.MAX_VALUE : -f64.MAX_VALUE;
}

/** Records `value` once. NaN and negative values count into the zero bucket; +Inf is clamped. */
export function record(s: SketchData, value: f64): void {
  s.count++;
  if (!(value >= 1)) {
    s.zeroCount++;
    if (value > 0) s.sum = saturatingAdd(s.sum, value);
    return;
  }
  if (value > 1e300) value = 1e300;
  s.sum = saturatingAdd(s.sum, value);
  addToBucket(s, bucketIndex(value), 1);
}

/** Adds `n` to bucket `index`, keeping indexes strictly ascending. */
export function addToBucket(s: SketchData, index: i32, n: u64): void {
  const idx = s.indexes;
  let lo = 0;
  let hi = idx.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (unchecked(idx[mid]) < index) lo = mid + 1;
    else hi = mid;
  }
  if (lo < idx.length && unchecked(idx[lo]) == index) {
    s.counts[lo] = s.counts[lo] + n;
    return;
  }
  insertAt<i32>(idx, lo, index);
  insertAt<u64>(s.counts, lo, n);
}

/** Inserts `v` at `at`, shifting later elements up (AssemblyScript's splice cannot insert). */
function insertAt<T>(a: Array<T>, at: i32, v: T): void {
  a.push(v);
  for (let i = a.length - 1; i > at; i--) a[i] = a[i - 1];
  a[at] = v;
}

/** Quantile q in [0,1] by nearest rank (rank ceil(q*count), at least 1); NaN when empty. */
export function quantile(s: SketchData, q: f64): f64 {
  if (s.count == 0) return NaN;
  let rank = <u64>Math.ceil(q * <f64>s.count);
  if (rank < 1) rank = 1;
  if (rank <= s.zeroCount) return 0;
  let seen = s.zeroCount;
  for (let i = 0; i < s.indexes.length; i++) {
    seen += s.counts[i];
    if (seen >= rank) return bucketValue(s.indexes[i]);
  }
  return s.indexes.length > 0 ? bucketValue(s.indexes[s.indexes.length - 1]) : 0;
}
