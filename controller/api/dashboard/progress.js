// Where the rollout stands: the step plan with the current step and time left, and the gates.

import { $, el } from "./dom.js";
import { fmtTime } from "./format.js";
import { stepPlan } from "./plan.js";

const MARKS = { done: "✔", current: "▶", next: "", stopped: "✖" };

export function renderPlan(c, now = Date.now()) {
  const steps = stepPlan(c, now);
  $("d-plan").replaceChildren(
    ...steps.map((s, i) =>
      el(
        "li",
        { class: "plan-step", "data-state": s.state, "aria-current": s.state === "current" ? "step" : false },
        el("span", { class: "plan-mark", "aria-hidden": "true", text: MARKS[s.state] }),
        el("span", { class: "plan-label", text: `${i + 1}. ${s.label}` }),
        el("span", { class: "plan-note", text: s.note }),
      ),
    ),
  );
}

/** spec.gates with their state in this attempt; the panel is hidden without gates. */
export function renderGates(gates) {
  const panel = $("d-gates-panel");
  panel.hidden = !gates?.length;
  if (panel.hidden) return;
  const rows = gates.map((g) =>
    el(
      "tr",
      { "data-gate": g.name },
      el("td", { text: g.name }),
      el("td", { text: g.type }),
      el("td", { class: "gate-result", "data-result": g.result ?? "", text: g.result ?? "not open" }),
      el("td", { class: "num", text: g.failures === undefined ? "–" : `${g.failures} / ${g.failureLimit}` }),
      el("td", { text: g.at ? fmtTime(Date.parse(g.at)) : "–" }),
      el("td", { class: "wrap", text: [g.origin, g.message].filter(Boolean).join(" — ") }),
    ),
  );
  const head = el(
    "tr",
    {},
    ...["Gate", "Type", "Result", "Failures", "Answered", "Endpoint and answer"].map((h) =>
      el("th", { text: h }),
    ),
  );
  $("d-gates").replaceChildren(
    el("table", { class: "checks" }, el("thead", {}, head), el("tbody", {}, ...rows)),
  );
}
