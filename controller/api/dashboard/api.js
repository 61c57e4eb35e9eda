// The dashboard's calls to this server's API, with the tab's token when one is saved.

const TOKEN_KEY = "meshcanary.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

export function saveToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function authHeader() {
  return token() ? { authorization: `Bearer ${token()}` } : {};
}

export async function getJson(path) {
  const res = await fetch(path, { headers: { accept: "application/json", ...authHeader() } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

export function canaryPath(ns, name) {
  return `/api/v1/canaries/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
}

/** Posts `command` for the canary: { ok: true } or { ok: false, message }. */
export async function postCommand(ns, name, command) {
  const res = await fetch(`${canaryPath(ns, name)}/${command}`, {
    method: "POST",
    // Through `meshcanary dashboard` the local proxy adds the user's Kubernetes credentials.
    headers: { "content-type": "application/json", ...authHeader() },
    body: "{}",
  });
  if (res.ok) return { ok: true };
  const body = await res.json().catch(() => ({}));
  return { ok: false, message: `${res.status}: ${body.error?.message ?? res.statusText}` };
}
