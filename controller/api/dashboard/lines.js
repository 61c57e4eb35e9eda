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

/** Canary weight as a step line from the timeline, extended to now. */
export function weightLines(c, domain) {
  const entries = (c.timeline ?? []).map((e) => [Date.parse(e.at), e.weight]);
  const values = [];
  let last = entries.length ? entries[0][1] : c.canaryWeight;
  values.push([domain[0], entries.filter(([t]) => t <= domain[0]).at(-1)?.[1] ?? last]);
  for (const [t, w] of entries) {
    if (t <= domain[0]) continue;
    values.push([t, last], [t, w]);
    last = w;
  }
  values.push([domain[1], c.canaryWeight]);
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
