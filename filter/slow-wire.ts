// Protobuf codec of proto SlowThreshold (Route field 12) and SlowTotals (VariantTotals field 15) for
// filter/report.ts. Field numbers are the proto's; keep them in step.
import { Reader, Writer } from "./protobuf";
import { setSlow } from "./slow-counts";
import { RouteData, SlowThresholdData, VariantTotalsData } from "./wire";

/** Writes `t`'s slow counts, each group list packed without its trailing zeros. */
export function writeSlowTotals(w: Writer, field: u32, t: VariantTotalsData): void {
  for (let i = 0; i < t.slow.length; i++) {
    const e = unchecked(t.slow[i]);
    w.begin(field);
    w.uint64Field(1, e.thresholdUs);
    let n = e.byGroup.length;
    while (n > 0 && unchecked(e.byGroup[n - 1]) == 0) n--;
    if (n > 0) {
      w.begin(2);
      for (let g = 0; g < n; g++) w.varint(unchecked(e.byGroup[g]));
      w.end();
    }
    w.end();
  }
}

/** Reads one SlowTotals message (the reader is at its length-delimited field) into `t`. */
export function readSlowTotals(r: Reader, t: VariantTotalsData): void {
  let us: u64 = 0;
  const counts = new Array<u64>();
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) us = r.uint64();
    else if (f == 2) r.repeatedUint64(counts);
    else r.skip();
  }
  r.leave(outer);
  if (us > 0) setSlow(t, us, counts);
}

/** Writes a route's thresholds. */
export function writeSlowThresholds(w: Writer, field: u32, d: RouteData): void {
  for (let i = 0; i < d.slowThresholds.length; i++) {
    const s = unchecked(d.slowThresholds[i]);
    w.begin(field);
    w.stringField(1, s.variant);
    w.uint64Field(2, s.thresholdUs);
    w.end();
  }
}

/** Reads one SlowThreshold message (the reader is at its length-delimited field). */
export function readSlowThreshold(r: Reader): SlowThresholdData {
  const s = new SlowThresholdData();
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) s.variant = r.str();
    else if (f == 2) s.thresholdUs = r.uint64();
    else r.skip();
  }
  r.leave(outer);
  return s;
}
