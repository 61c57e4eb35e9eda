// One line chart as an SVG card: time on x, a quantity on y, a legend of lines.

import { el, svg } from "./dom.js";
import { fmtNumber, fmtTime } from "./format.js";

const W = 420;
const H = 170;
const PAD = { left: 44, right: 26, top: 8, bottom: 22 };
const TICK_STEPS_MS = [5, 10, 15, 30, 60, 120, 300, 600].map((s) => s * 1000);

/** The round number at or above v that the y axis ends on. */
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/**
 * A line chart card: title, legend and an SVG plot with time on x and the quantity on y.
 * lines: [{label, color, dashed, area, gapMs, values: [[t, v|null]]}]; `points` and `lastT` are
 * recorded on the plot for tests. The y axis runs from yMin (default 0) to yMax (default: a round
 * number above the data); yLabel writes its tick values.
 */
export function chart(
  id,
  title,
  unit,
  lines,
  [t0, t1],
  { yMin = 0, yMax, yLabel = fmtNumber, points = 0, lastT = "" } = {},
) {
  const all = lines.flatMap((l) => l.values.map(([, v]) => v)).filter((v) => v !== null);
  const top = yMax ?? niceMax(Math.max(0, ...all) * 1.1);
  const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v) => PAD.top + (1 - (v - yMin) / (top - yMin)) * (H - PAD.top - PAD.bottom);

  const plot = svg("svg", {
    class: "plot",
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": title,
    "data-chart": id,
    "data-points": points,
    "data-last-t": lastT,
  });
  drawAxes(plot, x, y, [yMin, top], yLabel, [t0, t1]);
  for (const line of lines) drawLine(plot, line, x, y, t0, yMin);
  if (all.length === 0) {
    plot.append(
      svg("text", { class: "empty", x: W / 2, y: H / 2, "text-anchor": "middle", text: "no data yet" }),
    );
  }
  const legend = el("div", { class: "legend" }, ...lines.map(legendItem));
  return el(
    "div",
    { class: "chart", "data-chart": id },
    el(
      "div",
      { class: "chart-head" },
      el("h3", {}, title, unit ? el("span", { class: "unit", text: ` (${unit})` }) : ""),
      legend,
    ),
    plot,
  );
}

function legendItem(line) {
  const sample = svg(
    "svg",
    { width: 16, height: 6 },
    svg("line", {
      x1: 0,
      y1: 3,
      x2: 16,
      y2: 3,
      stroke: line.color,
      "stroke-width": 2,
      "stroke-dasharray": line.dashed ? "3 2" : undefined,
    }),
  );
  return el("span", {}, sample, line.label);
}

function drawAxes(plot, x, y, [bottom, top], yLabel, [t0, t1]) {
  for (let i = 0; i <= 4; i++) {
    const v = bottom + ((top - bottom) * i) / 4;
    plot.append(
      svg("line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }),
      svg("text", { x: PAD.left - 4, y: y(v) + 3, "text-anchor": "end", text: yLabel(v) }),
    );
  }
  plot.append(
    svg("line", { class: "axis", x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom }),
  );
  // Ticks on round times (every 15 s, 30 s, 1 min, ...), at most five.
  const step = TICK_STEPS_MS.find((s) => (t1 - t0) / s <= 5) ?? TICK_STEPS_MS.at(-1);
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    plot.append(
      svg("line", { class: "axis", x1: x(t), x2: x(t), y1: H - PAD.bottom, y2: H - PAD.bottom + 3 }),
      svg("text", { x: x(t), y: H - 6, "text-anchor": "middle", text: fmtTime(t) }),
    );
  }
}

/** The line's path; a null value or a gap of more than line.gapMs (default 3 s: no windows) breaks it. */
function drawLine(plot, line, x, y, t0, yMin) {
  let d = "";
  let prevT = null;
  for (const [t, v] of line.values) {
    if (t < t0 || v === null) {
      prevT = null;
      continue;
    }
    const gap = prevT !== null && !line.area && t - prevT > (line.gapMs ?? 3000);
    d += `${prevT === null || gap ? "M" : "L"}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    prevT = t;
  }
  if (!d) return;
  if (line.area) {
    const first = line.values.find(([t]) => t >= t0);
    const lastT = line.values.at(-1)[0];
    const floor = y(yMin).toFixed(1);
    const area = `${d}L${x(lastT).toFixed(1)},${floor}L${x(first[0]).toFixed(1)},${floor}Z`;
    plot.append(svg("path", { d: area, fill: line.color, "fill-opacity": 0.12, stroke: "none" }));
  }
  plot.append(
    svg("path", {
      class: "line",
      d,
      fill: "none",
      stroke: line.color,
      "stroke-width": 1.8,
      "stroke-linejoin": "round",
      "stroke-dasharray": line.dashed ? "4 3" : undefined,
      "data-label": line.label,
    }),
  );
}
