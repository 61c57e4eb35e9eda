// Pure formatting for the dashboard (no DOM): numbers, times, shares and colours.

const VARIANT_COLORS = { stable: "#2563eb", canary: "#ea7a0c" };
const EXTRA_COLORS = ["#7c3aed", "#0d9488", "#db2777", "#65a30d", "#0891b2"];

/** "namespace/name": the key of a canary in the list, the hash and the events. */
export function key(ns, name) {
  return `${ns}/${name}`;
}

export function variantColor(name) {
  if (VARIANT_COLORS[name]) return VARIANT_COLORS[name];
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return EXTRA_COLORS[h % EXTRA_COLORS.length];
}

export function fmtTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

export function fmtNumber(v, digits = 3) {
  if (v === undefined || v === null || Number.isNaN(v)) return "–";
  // E-values span many orders of magnitude: beyond a million, scientific notation reads better.
  if (Math.abs(v) >= 1e6) return v.toExponential(digits - 1);
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  return Number(v.toPrecision(digits)).toString();
}

export function fmtShare(v, unit) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return unit === "share" ? `${fmtNumber(v * 100)}%` : fmtNumber(v);
}

export function fmtInterval(i, unit) {
  return i ? `[${fmtShare(i.lower, unit)}, ${fmtShare(i.upper, unit)}]` : "";
}

/** "5% of requests · 11% of tokens · 14% of cost": LLM tokens can be a very different share. */
export function exposureText(e) {
  if (!e) return "–";
  const parts = [];
  for (const k of ["requests", "tokens", "cost"])
    if (e[k] !== undefined) parts.push(`${fmtNumber(e[k])}% of ${k}`);
  return parts.join(" · ") || "–";
}
