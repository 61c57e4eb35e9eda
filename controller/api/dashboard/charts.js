// The selected canary's charts, redrawn from state at most once per frame.

import { chart } from "./chart.js";
import { $ } from "./dom.js";
import { evidenceLines, fmtEvidence } from "./evidence.js";
import { timeDomain, variantLines, weightLines } from "./lines.js";
import { LLM_CHARTED, LLM_CHARTS } from "./llm.js";
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
  const llm = Boolean(c.spec?.llm);
  if (llm) for (const m of LLM_CHARTED) metricNames.delete(m);

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
    evidenceChart(c, domain),
    ...(llm
      ? LLM_CHARTS.map((l) => chart(l.id, l.title, l.unit, variantLines(points, l.value), domain, meta))
      : []),
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

/** Each check's e-value over the rollout under way (from its first analysis), log scale. */
function evidenceChart(c, domain) {
  const first = c.evidence?.points?.[0]?.t;
  const span = first === undefined ? domain : [Math.min(first, domain[0]), domain[1]];
  const { lines, yMin, yMax } = evidenceLines(c.evidence, span);
  const n = c.evidence?.points?.length ?? 0;
  return chart("evidence", "Evidence against the canary", "e-value, log", lines, span, {
    yMin,
    yMax,
    yLabel: fmtEvidence,
    points: n,
    lastT: c.evidence?.points?.at(-1)?.t ?? "",
  });
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
