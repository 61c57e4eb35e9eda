// meshcanary dashboard: plain ES2022, no framework, no network beyond this server.
// State lives in one object; every update re-renders the affected part from it.

const SERIES_WINDOW_MS = 5 * 60 * 1000;
const TOKEN_KEY = "meshcanary.token";
const SVG_NS = "http://www.w3.org/2000/svg";
const VARIANT_COLORS = { stable: "#2563eb", canary: "#ea7a0c" };
const EXTRA_COLORS = ["#7c3aed", "#0d9488", "#db2777", "#65a30d", "#0891b2"];

const state = {
  /** "ns/name" -> CanarySummary */
  canaries: new Map(),
  /** "ns/name" of the selected canary */
  selected: null,
  /** CanaryDetail of the selected canary */
  detail: null,
  /** SeriesPoints of the selected canary, oldest first */
  points: [],
  /** Who the API says the caller is, when signed in (undefined: anonymous reads) */
  user: undefined,
};

// ---------- small DOM helpers ----------

function $(id) {
  return document.getElementById(id);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  node.append(...children);
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  node.append(...children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = String(v);
    else node.setAttribute(k, String(v));
  }
}

function key(ns, name) {
  return `${ns}/${name}`;
}

function variantColor(name) {
  if (VARIANT_COLORS[name]) return VARIANT_COLORS[name];
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return EXTRA_COLORS[h % EXTRA_COLORS.length];
}

function fmtTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

function fmtNumber(v, digits = 3) {
  if (v === undefined || v === null || Number.isNaN(v)) return "–";
  // E-values span many orders of magnitude: beyond a million, scientific notation reads better.
  if (Math.abs(v) >= 1e6) return v.toExponential(digits - 1);
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  return Number(v.toPrecision(digits)).toString();
}

function toast(message, kind = "info") {
  const t = $("toast");
  t.textContent = message;
  t.dataset.kind = kind;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    t.hidden = true;
  }, 4000);
}

// ---------- API ----------

async function getJson(path) {
  const auth = token() ? { authorization: `Bearer ${token()}` } : {};
  const res = await fetch(path, { headers: { accept: "application/json", ...auth } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

async function sendCommand(command) {
  const c = state.detail;
  if (!c) return;
  const path = `/api/v1/canaries/${encodeURIComponent(c.namespace)}/${encodeURIComponent(c.name)}/${command}`;
  const res = await fetch(path, {
    method: "POST",
    // Through `meshcanary dashboard` the local proxy adds the user's Kubernetes credentials.
    headers: {
      "content-type": "application/json",
      ...(token() ? { authorization: `Bearer ${token()}` } : {}),
    },
    body: "{}",
  });
  if (res.ok) {
    toast(`${command} sent to ${c.namespace}/${c.name}`);
    return;
  }
  const body = await res.json().catch(() => ({}));
  toast(`${command} failed (${res.status}): ${body.error?.message ?? res.statusText}`, "error");
}

// ---------- canary list ----------

function renderList() {
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

// ---------- selected canary ----------

async function select(k) {
  state.selected = k;
  state.detail = null;
  state.points = [];
  renderList();
  if (!k) return renderDetail();
  const [ns, name] = k.split("/");
  const base = `/api/v1/canaries/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
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

async function refreshDetail() {
  const c = state.detail;
  if (!c) return;
  try {
    const detail = await getJson(
      `/api/v1/canaries/${encodeURIComponent(c.namespace)}/${encodeURIComponent(c.name)}`,
    );
    if (state.detail && key(detail.namespace, detail.name) === state.selected) {
      state.detail = detail;
      renderDetail();
    }
  } catch {
    // The canary may have just been deleted; the list update handles that.
  }
}

function renderDetail() {
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
  renderActions();
  renderCharts();
  renderDecision(c.lastDecision);
  renderReport(c.report);
  renderTimeline(c.timeline ?? []);
}

// ---------- A/B and shadow comparison (status.report) ----------

function fmtShare(v, unit) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return unit === "share" ? `${fmtNumber(v * 100)}%` : fmtNumber(v);
}

function fmtInterval(i, unit) {
  return i ? `[${fmtShare(i.lower, unit)}, ${fmtShare(i.upper, unit)}]` : "";
}

function renderReport(r) {
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
  const head = el(
    "tr",
    {},
    ...["Check", "Measure", a, b, `Effect ${b} − ${a}`, "Verdict"].map((h) => el("th", { text: h })),
  );
  const note = `${r.live ? "running" : "final"} · ${r.verdict} · intervals hold at every moment at once (α = ${r.alpha})`;
  $("d-report").replaceChildren(
    el("div", { class: "muted", text: note }),
    el("table", { class: "checks" }, el("thead", {}, head), el("tbody", {}, ...rows)),
  );
}

/** "5% of requests · 11% of tokens · 14% of cost": LLM tokens can be a very different share. */
function exposureText(e) {
  if (!e) return "–";
  const parts = [];
  for (const k of ["requests", "tokens", "cost"])
    if (e[k] !== undefined) parts.push(`${fmtNumber(e[k])}% of ${k}`);
  return parts.join(" · ") || "–";
}

function renderWeightBar(c) {
  const stable = el("div", { class: "seg-stable", title: `stable ${fmtNumber(100 - c.canaryWeight)}%` });
  const canary = el("div", { class: "seg-canary", title: `canary ${fmtNumber(c.canaryWeight)}%` });
  stable.style.width = `${100 - c.canaryWeight}%`;
  canary.style.width = `${c.canaryWeight}%`;
  $("d-weightbar").replaceChildren(stable, canary);
}

function renderActions() {
  const hasToken = token() !== "" || state.user !== undefined;
  for (const b of document.querySelectorAll("button.action")) b.disabled = !hasToken;
  $("action-hint").textContent = state.user
    ? `Signed in as ${state.user}.`
    : hasToken
      ? ""
      : "Enter an API token above to enable actions.";
}

/** The signed-in user when the request carries credentials (e.g. through `meshcanary dashboard`). */
async function loadUser() {
  try {
    const me = await getJson("/api/v1/whoami");
    state.user = me.authenticated ? me.user : undefined;
  } catch {
    state.user = undefined;
  }
  renderActions();
}

function onAction(button) {
  // Abort is irreversible for this rollout: it takes a second click within 3 s.
  if (button.dataset.command === "abort" && !button.classList.contains("confirming")) {
    button.classList.add("confirming");
    button.textContent = "Confirm abort";
    setTimeout(() => {
      button.classList.remove("confirming");
      button.textContent = "Abort";
    }, 3000);
    return;
  }
  button.classList.remove("confirming");
  button.textContent = button.dataset.command === "abort" ? "Abort" : button.textContent;
  sendCommand(button.dataset.command).catch((err) => toast(String(err.message ?? err), "error"));
}

// ---------- decision and timeline ----------

function renderDecision(d) {
  const box = $("d-decision");
  if (!d) {
    box.replaceChildren(el("p", { class: "muted", text: "No decision yet." }));
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
      el("td", { class: "num", text: fmtNumber(ch.eValue) }),
      el("td", { text: ch.reason }),
    ),
  );
  const headRow = el(
    "tr",
    {},
    ...["Check", "Verdict", "Value", "Threshold", "e-value", "Reason"].map((h) => el("th", { text: h })),
  );
  box.replaceChildren(
    head,
    el("table", { class: "checks" }, el("thead", {}, headRow), el("tbody", {}, ...rows)),
  );
}

function renderTimeline(entries) {
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

// ---------- charts ----------

/** Lines of one quantity per variant: [{label, color, dashed, values: [[t, v|null]]}]. */
function variantLines(field, { dashed = false, suffix = "", scale = 1 } = {}) {
  const names = new Set();
  for (const p of state.points) for (const n of Object.keys(p.variants)) names.add(n);
  return [...names].sort().map((name) => ({
    label: name + suffix,
    color: variantColor(name),
    dashed,
    values: state.points.map((p) => {
      const v = p.variants[name];
      const x = v ? (typeof field === "function" ? field(v) : v[field]) : null;
      return [p.t, x === null || x === undefined ? null : x * scale];
    }),
  }));
}

/** Canary weight as a step line from the timeline, extended to now. */
function weightLines(domain) {
  const c = state.detail;
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

function timeDomain() {
  const lastT = state.points.at(-1)?.t ?? 0;
  const end = Math.max(Date.now(), lastT + 1000);
  const firstT = state.points[0]?.t ?? end - 60_000;
  const start = Math.max(end - SERIES_WINDOW_MS, Math.min(firstT, end - 60_000));
  return [start, end];
}

function renderCharts() {
  const c = state.detail;
  if (!c) return;
  const domain = timeDomain();
  const metricNames = new Set(c.spec?.metrics ?? []);
  for (const p of state.points)
    for (const v of Object.values(p.variants)) for (const m of Object.keys(v.metrics)) metricNames.add(m);

  const charts = [
    chart("weight", "Canary weight", "%", weightLines(domain), domain, { yMax: 100 }),
    chart("rps", "Requests per second", "req/s", variantLines("rps"), domain),
    chart("failure", "Failure rate", "%", variantLines("failureRate", { scale: 100 }), domain),
    chart(
      "latency",
      "Latency p50 / p99",
      "ms",
      [
        ...variantLines("p50Ms", { suffix: " p50" }),
        ...variantLines("p99Ms", { suffix: " p99", dashed: true }),
      ],
      domain,
    ),
    ...[...metricNames].sort().map((m) =>
      chart(
        `metric-${m}`,
        `${m} per request`,
        "",
        variantLines((v) => v.metrics[m] ?? null),
        domain,
      ),
    ),
  ];
  $("charts").replaceChildren(...charts);
}

const W = 420;
const H = 170;
const PAD = { left: 44, right: 26, top: 8, bottom: 22 };
const TICK_STEPS_MS = [5, 10, 15, 30, 60, 120, 300, 600].map((s) => s * 1000);

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/** A line chart card: title, legend and an SVG plot with time on x and the quantity on y. */
function chart(id, title, unit, lines, [t0, t1], { yMax } = {}) {
  const all = lines.flatMap((l) => l.values.map(([, v]) => v)).filter((v) => v !== null);
  const top = yMax ?? niceMax(Math.max(0, ...all) * 1.1);
  const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v) => PAD.top + (1 - v / top) * (H - PAD.top - PAD.bottom);

  const plot = svg("svg", {
    class: "plot",
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": title,
    "data-chart": id,
    "data-points": state.points.length,
    "data-last-t": state.points.at(-1)?.t ?? "",
  });
  drawAxes(plot, x, y, top, [t0, t1]);
  for (const line of lines) drawLine(plot, line, x, y, t0);
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

function drawAxes(plot, x, y, top, [t0, t1]) {
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    plot.append(
      svg("line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }),
      svg("text", { x: PAD.left - 4, y: y(v) + 3, "text-anchor": "end", text: fmtNumber(v) }),
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

/** The line's path; a null value or a gap of more than 3 s (no windows) breaks it. */
function drawLine(plot, line, x, y, t0) {
  let d = "";
  let prevT = null;
  for (const [t, v] of line.values) {
    if (t < t0 || v === null) {
      prevT = null;
      continue;
    }
    const gap = prevT !== null && !line.area && t - prevT > 3000;
    d += `${prevT === null || gap ? "M" : "L"}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    prevT = t;
  }
  if (!d) return;
  if (line.area) {
    const first = line.values.find(([t]) => t >= t0);
    const lastT = line.values.at(-1)[0];
    const area = `${d}L${x(lastT).toFixed(1)},${y(0).toFixed(1)}L${x(first[0]).toFixed(1)},${y(0).toFixed(1)}Z`;
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

// ---------- live updates ----------

let chartsPending = false;

/** Coalesces bursts of series events into one redraw per frame. */
function scheduleCharts() {
  if (chartsPending) return;
  chartsPending = true;
  requestAnimationFrame(() => {
    chartsPending = false;
    renderCharts();
  });
}

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
    renderDecision(e.decision);
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

// ---------- start ----------

function setupToken() {
  const input = $("token-input");
  input.value = token();
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    renderActions();
    toast(input.value.trim() ? "Token saved for this tab." : "Token cleared.");
  });
  $("token-clear").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
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
  // The x axis follows the clock even when no traffic arrives.
  setInterval(scheduleCharts, 5000);
  await loadList();
  const first = [...state.canaries.keys()].sort()[0] ?? null;
  await select(selectedFromHash() ?? first);
  connectEvents();
}

start().catch((err) => toast(String(err.message ?? err), "error"));
