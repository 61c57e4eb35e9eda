// Pure: series points and timelines -> the lines the charts draw (no DOM).

import { variantColor } from "./format.js";

/** Lines of one quantity per variant: [{label, color, dashed, values: [[t, v|null]]}]. */
export function variantLines(points, field, { dashed = false, suffix = "", scale = 1 } = {}) {
  const names = new Set();
  for (const p of points) for (const n of Object.keys(p.variants)) names.add(n);
  return [...names].sort().map((name) => ({
    label: name + suffix,
    color: variantColor(name),
    dashed,
    values: points.map((p) => {
      const v = p.variants[name];
      const x = v ? (typeof field === "function" ? field(v) : v[field]) : null;
      return [p.t, x === null || x === undefined ? null : x * scale];
    }),
  }));
}

/** Transitions status.history keeps: a full timeline may not reach back to the first rollout. */
const HISTORY_KEPT = 20;

/**
 * Canary weight as a step line from the timeline, from when the Canary was created (or the
 * domain's start, if later) to the domain's end. A Canary starts at 0% until its first transition,
 * as far as a timeline that was not cut short shows.
 */
export function weightLines(c, [t0, t1]) {
  const entries = (c.timeline ?? []).map((e) => [Date.parse(e.at), e.weight]);
  const created = c.createdAt ? Date.parse(c.createdAt) : Number.NaN;
  const start = Number.isFinite(created) ? Math.min(Math.max(t0, created), t1) : t0;
  const before =
    Number.isFinite(created) && entries.length < HISTORY_KEPT ? 0 : (entries[0]?.[1] ?? c.canaryWeight);
  let last = entries.filter(([t]) => t <= start).at(-1)?.[1] ?? before;
  const values = [[start, last]];
  for (const [t, w] of entries) {
    if (t <= start) continue;
    values.push([t, last], [t, w]);
    last = w;
  }
  values.push([t1, c.canaryWeight]);
  return [{ label: "canary weight", color: variantColor("canary"), values, area: true }];
}

/** The charts' time span: the last five minutes at most, at least one, ending now. */
export function timeDomain(points, now, windowMs) {
  const lastT = points.at(-1)?.t ?? 0;
  const end = Math.max(now, lastT + 1000);
  const firstT = points[0]?.t ?? end - 60_000;
  const start = Math.max(end - windowMs, Math.min(firstT, end - 60_000));
  return [start, end];
}
