/**
 * The simulated filter's slow counts: per user group, the requests of one variant slower than each
 * latency threshold the controller sent for it (controller/analysis/slow-thresholds.ts), carried in
 * UserGroupStats.slow as the real filter reports them, so a latency ratio check's user-group test is
 * fed in the study as in production.
 */

import { record, type Sketch } from "../../controller/telemetry/sketch.js";
import { USER_GROUPS } from "../../controller/telemetry/user-groups.js";

/** Requests tallied together: from one user group, or (no sticky key) by request counter from `from`. */
export interface Segment {
  requests: number;
  userGroup?: number;
  /** The filter's request counter at the segment's first request (its group when unkeyed). */
  from: number;
}

/** Per threshold (whole µs), the requests above it per user group of one report. */
export class SlowCounts {
  readonly counts = new Map<number, number[]>();

  constructor(private readonly thresholdsUs: readonly number[]) {
    for (const us of thresholdsUs) this.counts.set(us, new Array<number>(USER_GROUPS).fill(0));
  }

  /** Request `r` of `seg` took `us` µs. */
  add(seg: Segment, r: number, us: number): void {
    if (this.thresholdsUs.length === 0) return;
    const g = seg.userGroup ?? (seg.from + r) % USER_GROUPS;
    for (const t of this.thresholdsUs) if (us > t) this.counts.get(t)![g]!++;
  }
}

/**
 * Draws the latency of every request, class by class and segment by segment in the order tallied
 * (so the draws are those of a world without thresholds), into `sketch`; returns the slow counts
 * above `thresholdsUs`, or undefined when there are none to count.
 */
export function drawLatencies(
  segments: readonly (readonly Segment[])[],
  thresholdsUs: readonly number[],
  sketch: Sketch,
  latencyUs: (userClass: number) => number,
): Map<number, number[]> | undefined {
  const slow = new SlowCounts(thresholdsUs);
  segments.forEach((segs, k) => {
    for (const seg of segs) {
      for (let r = 0; r < seg.requests; r++) {
        const us = latencyUs(k);
        record(sketch, us);
        slow.add(seg, r, us);
      }
    }
  });
  return thresholdsUs.length > 0 ? slow.counts : undefined;
}
