// The detail page's panels: the last decision, an A/B or shadow comparison, the timeline.

import { $, el } from "./dom.js";
import { fmtInterval, fmtNumber, fmtShare, fmtTime } from "./format.js";
import { currentDecision, rolloutRows } from "./history.js";

function table(headings, rows) {
  const head = el("tr", {}, ...headings.map((h) => el("th", { text: h })));
  return el("table", { class: "checks" }, el("thead", {}, head), el("tbody", {}, ...rows));
}

/** The last decision of the rollout under way (history.js says which one that is). */
export function renderDecision(c) {
  const box = $("d-decision");
  const { decision: d, note } = currentDecision(c);
  if (!d) {
    box.replaceChildren(el("p", { class: "muted", text: note }));
    return;
  }
  const head = el(
    "div",
    { class: "decision-head" },
    el("span", { class: "action-name", text: d.action }),
    el("span", { text: d.reason }),
    el("div", { class: "muted", text: new Date(d.at).toLocaleString() }),
  );
  const rows = d.checks.map((ch) =>
    el(
      "tr",
      {},
      el("td", { text: ch.name }),
      el("td", { class: "verdict", "data-verdict": ch.verdict, text: ch.verdict }),
      el("td", { class: "num", text: fmtNumber(ch.value) }),
      el("td", { class: "num", text: fmtNumber(ch.threshold) }),
      el("td", {
        class: "num",
        text: `${fmtNumber(ch.eValue)}${ch.eValue !== undefined && ch.rollbackAt ? ` of ${fmtNumber(ch.rollbackAt)}` : ""}`,
      }),
      el("td", { text: ch.reason }),
    ),
  );
  // A decision taken before any check could be judged (the step's minimum time) has no table.
  if (rows.length === 0) return box.replaceChildren(head);
  box.replaceChildren(
    head,
    table(["Check", "Verdict", "Value", "Threshold", "e-value (of rollback level)", "Reason"], rows),
  );
}

/** status.report: an A/B test's or shadow's comparison. */
export function renderReport(r) {
  const panel = $("d-report-panel");
  const list = r && Array.isArray(r.comparisons) ? r.comparisons : [];
  panel.hidden = list.length === 0;
  if (panel.hidden) return;
  const verdicts = new Map((r.checks ?? []).map((c) => [c.name, c.verdict]));
  const a = r.variants?.a ?? "A";
  const b = r.variants?.b ?? "B";
  const arm = (x, unit) => `${fmtShare(x.estimate, unit)} ${fmtInterval(x.interval, unit)}`;
  const rows = list.map((c) =>
    el(
      "tr",
      {},
      el("td", { text: c.name }),
      el("td", { text: c.measure }),
      el("td", { class: "num", text: arm(c.a, c.unit) }),
      el("td", { class: "num", text: arm(c.b, c.unit) }),
      el("td", {
        class: "num",
        text: c.effect
          ? `${fmtShare(c.effect.estimate, c.unit)} ${fmtInterval(c.effect.interval, c.unit)}`
          : "–",
      }),
      el("td", {
        class: "verdict",
        "data-verdict": verdicts.get(c.name) ?? "inconclusive",
        text: verdicts.get(c.name) ?? "inconclusive",
      }),
    ),
  );
  const note = `${r.live ? "running" : "final"} · ${r.verdict} · intervals hold at every moment at once (α = ${r.alpha})`;
  $("d-report").replaceChildren(
    el("div", { class: "muted", text: note }),
    table(["Check", "Measure", a, b, `Effect ${b} − ${a}`, "Verdict"], rows),
  );
}

export function renderTimeline(entries) {
  const items = [...entries]
    .reverse()
    .map((e) =>
      el(
        "li",
        {},
        el("span", { class: "when", text: fmtTime(Date.parse(e.at)) }),
        el("span", {}, el("span", { class: "badge", "data-phase": e.phase, text: e.phase })),
        el("span", { text: `step ${e.step + 1} · ${fmtNumber(e.weight)}% — ${e.reason}` }),
      ),
    );
  $("d-timeline").replaceChildren(
    ...(items.length ? items : [el("li", { class: "muted", text: "No transitions yet." })]),
  );
}

/** This Canary's rollouts, newest first, each with how it ended and its last decision. */
export function renderRollouts(rollouts, now = Date.now()) {
  const rows = rolloutRows(rollouts, now).map((r) =>
    el(
      "tr",
      {},
      el("td", { text: new Date(r.startedAt).toLocaleString([], { hour12: false }) }),
      el(
        "td",
        {},
        el("span", { class: "badge", "data-phase": r.phase, text: r.running ? `${r.phase} …` : r.phase }),
      ),
      el("td", { class: "num", text: r.took }),
      el("td", { text: r.reach }),
      el("td", { class: "wrap", text: r.why }),
    ),
  );
  $("d-rollouts").replaceChildren(
    rows.length
      ? table(["Started", "Outcome", "Took", "Reached", "Why"], rows)
      : el("p", { class: "muted", text: "No rollout seen yet." }),
  );
}
