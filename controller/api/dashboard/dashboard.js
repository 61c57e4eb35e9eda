// meshcanary dashboard: plain ES2022 modules, no framework, no network beyond this server.
// This module wires live updates and start-up; state.js holds the state, detail.js renders it.

import { loadUser, onAction, renderActions } from "./actions.js";
import { getJson, saveToken, token } from "./api.js";
import { scheduleCharts } from "./charts.js";
import { refreshDetail, renderList, select } from "./detail.js";
import { $, toast } from "./dom.js";
import { key } from "./format.js";
import { renderDecision } from "./panels.js";
import { renderPlan } from "./progress.js";
import { SERIES_WINDOW_MS, state } from "./state.js";

function onEvent(e) {
  if (e.type === "canary") {
    state.canaries.set(key(e.canary.namespace, e.canary.name), e.canary);
    renderList();
    if (key(e.canary.namespace, e.canary.name) === state.selected) refreshDetail();
  } else if (e.type === "removed") {
    state.canaries.delete(key(e.namespace, e.name));
    renderList();
    if (key(e.namespace, e.name) === state.selected) select(null);
  } else if (e.type === "series" && key(e.namespace, e.name) === state.selected) {
    state.points.push(e.point);
    const cutoff = Date.now() - SERIES_WINDOW_MS;
    while (state.points.length > 0 && state.points[0].t < cutoff) state.points.shift();
    scheduleCharts();
  } else if (e.type === "decision" && key(e.namespace, e.name) === state.selected && state.detail) {
    state.detail.lastDecision = e.decision;
    renderDecision(state.detail);
  }
}

function connectEvents() {
  const live = $("live");
  const source = new EventSource("/api/v1/events");
  let reconnecting = false;
  source.onopen = () => {
    live.dataset.state = "live";
    live.textContent = "live";
    // Anything may have changed while disconnected.
    if (reconnecting) loadList().then(() => select(state.selected));
  };
  source.onerror = () => {
    live.dataset.state = "offline";
    live.textContent = "reconnecting…";
    reconnecting = true;
  };
  source.onmessage = (msg) => onEvent(JSON.parse(msg.data));
}

async function loadList() {
  const { canaries } = await getJson("/api/v1/canaries");
  state.canaries = new Map(canaries.map((c) => [key(c.namespace, c.name), c]));
  renderList();
}

function setupToken() {
  const input = $("token-input");
  input.value = token();
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    saveToken(input.value.trim());
    renderActions();
    toast(input.value.trim() ? "Token saved for this tab." : "Token cleared.");
  });
  $("token-clear").addEventListener("click", () => {
    saveToken("");
    input.value = "";
    renderActions();
  });
}

function selectedFromHash() {
  const h = decodeURIComponent(location.hash.slice(1));
  return h.includes("/") ? h : null;
}

async function start() {
  setupToken();
  await loadUser();
  for (const b of document.querySelectorAll("button.action")) b.addEventListener("click", () => onAction(b));
  window.addEventListener("hashchange", () => select(selectedFromHash()));
  // The x axis follows the clock even when no traffic arrives; the step's time left counts down.
  setInterval(scheduleCharts, 5000);
  setInterval(() => state.detail && renderPlan(state.detail), 1000);
  await loadList();
  const first = [...state.canaries.keys()].sort()[0] ?? null;
  await select(selectedFromHash() ?? first);
  connectEvents();
}

start().catch((err) => toast(String(err.message ?? err), "error"));
