// The selected canary's charts, redrawn from state at most once per frame.

import { chart } from "./chart.js";
import { $ } from "./dom.js";
import { timeDomain, variantLines, weightLines } from "./lines.js";
import { SERIES_WINDOW_MS, state } from "./state.js";

export function renderCharts() {
  const c = state.detail;
  if (!c) return;
  const points = state.points;
  const domain = timeDomain(points, Date.now(), SERIES_WINDOW_MS);
  const meta = { points: points.length, lastT: points.at(-1)?.t ?? "" };
  const metricNames = new Set(c.spec?.metrics ?? []);
  for (const p of points)
    for (const v of Object.values(p.variants)) for (const m of Object.keys(v.metrics)) metricNames.add(m);

  const charts = [
    chart("weight", "Canary weight", "%", weightLines(c, domain), domain, { ...meta, yMax: 100 }),
    chart("rps", "Requests per second", "req/s", variantLines(points, "rps"), domain, meta),
    chart("failure", "Failure rate", "%", variantLines(points, "failureRate", { scale: 100 }), domain, meta),
    chart(
      "latency",
      "Latency p50 / p99",
      "ms",
      [
        ...variantLines(points, "p50Ms", { suffix: " p50" }),
        ...variantLines(points, "p99Ms", { suffix: " p99", dashed: true }),
      ],
      domain,
      meta,
    ),
    ...[...metricNames].sort().map((m) =>
      chart(
        `metric-${m}`,
        `${m} per request`,
        "",
        variantLines(points, (v) => v.metrics[m] ?? null),
        domain,
        meta,
      ),
    ),
  ];
  $("charts").replaceChildren(...charts);
}

let chartsPending = false;

/** Coalesces bursts of series events into one redraw per frame. */
export function scheduleCharts() {
  if (chartsPending) return;
  chartsPending = true;
  requestAnimationFrame(() => {
    chartsPending = false;
    renderCharts();
  });
}
