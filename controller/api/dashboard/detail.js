// The canary list and the selected canary's page.

import { renderActions } from "./actions.js";
import { canaryPath, getJson } from "./api.js";
import { renderCharts } from "./charts.js";
import { $, el, toast } from "./dom.js";
import { exposureText, fmtNumber, key } from "./format.js";
import { renderDecision, renderReport, renderRollouts, renderTimeline } from "./panels.js";
import { renderGates, renderPlan } from "./progress.js";
import { SERIES_WINDOW_MS, state } from "./state.js";

export function renderList() {
  const list = $("canary-list");
  const items = [...state.canaries.values()].sort((a, b) =>
    key(a.namespace, a.name).localeCompare(key(b.namespace, b.name)),
  );
  list.replaceChildren(...items.map(listItem));
  $("list-empty").hidden = items.length > 0;
}

function listItem(c) {
  const k = key(c.namespace, c.name);
  const bar = el("div", { class: "mini-bar" }, el("div"));
  bar.firstChild.style.width = `${Math.max(0, Math.min(100, c.canaryWeight))}%`;
  const item = el(
    "li",
    { class: "canary-item", "data-key": k, "aria-current": k === state.selected ? "true" : "false" },
    el(
      "div",
      { class: "row" },
      el("span", { class: "name", text: c.name }),
      el("span", { class: "badge", "data-phase": c.phase, text: c.phase }),
    ),
    el("div", { class: "ns", text: `${c.namespace} · ${fmtNumber(c.canaryWeight)}% canary` }),
    bar,
  );
  item.addEventListener("click", () => {
    location.hash = k;
  });
  return item;
}

export async function select(k) {
  state.selected = k;
  state.detail = null;
  state.points = [];
  renderList();
  if (!k) return renderDetail();
  const [ns, name] = k.split("/");
  const base = canaryPath(ns, name);
  try {
    const [detail, series] = await Promise.all([
      getJson(base),
      getJson(`${base}/series?since=${Date.now() - SERIES_WINDOW_MS}`),
    ]);
    if (state.selected !== k) return;
    state.detail = detail;
    state.points = series.points;
  } catch (err) {
    toast(String(err.message ?? err), "error");
  }
  renderDetail();
}

export async function refreshDetail() {
  const c = state.detail;
  if (!c) return;
  try {
    const detail = await getJson(canaryPath(c.namespace, c.name));
    if (state.detail && key(detail.namespace, detail.name) === state.selected) {
      state.detail = detail;
      renderDetail();
    }
  } catch {
    // The canary may have just been deleted; the list update handles that.
  }
}

export function renderDetail() {
  const c = state.detail;
  $("detail-empty").hidden = Boolean(c);
  $("detail-body").hidden = !c;
  if (!c) return;
  $("d-title").textContent = `${c.namespace}/${c.name}`;
  $("d-host").textContent = c.spec ? `${c.spec.host} · VirtualService ${c.spec.virtualService}` : "";
  const phase = $("d-phase");
  phase.textContent = c.phase;
  phase.dataset.phase = c.phase;
  $("d-step").textContent = `${c.step + 1} / ${c.stepCount}`;
  $("d-weight").textContent = `${fmtNumber(c.canaryWeight)}%`;
  $("d-exposure").textContent = exposureText(c.exposure);
  $("d-message").textContent = c.message || "–";
  renderWeightBar(c);
  renderPlan(c);
  renderActions();
  renderCharts();
  renderDecision(c);
  renderGates(c.gates);
  renderReport(c.report);
  renderRollouts(c.rollouts);
  renderTimeline(c.timeline ?? []);
}

function renderWeightBar(c) {
  const stable = el("div", { class: "seg-stable", title: `stable ${fmtNumber(100 - c.canaryWeight)}%` });
  const canary = el("div", { class: "seg-canary", title: `canary ${fmtNumber(c.canaryWeight)}%` });
  stable.style.width = `${100 - c.canaryWeight}%`;
  canary.style.width = `${c.canaryWeight}%`;
  $("d-weightbar").replaceChildren(stable, canary);
}
