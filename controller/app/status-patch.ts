/**
 * The JSON merge patch (RFC 7386) that turns the last written status into the next one.
 * statusFromState leaves cleared fields out, but in a merge patch an absent field means "keep" and
 * objects merge key by key, so every key that disappears, at any depth, must become null.
 */
type Json = unknown;

export function mergePatch(previous: Json, next: Json): Json {
  if (!isObject(previous) || !isObject(next)) return next;
  const patch: Record<string, Json> = {};
  for (const [key, value] of Object.entries(next)) {
    if (key in previous && JSON.stringify(previous[key]) === JSON.stringify(value)) continue;
    patch[key] = mergePatch(previous[key], value);
  }
  for (const key of Object.keys(previous)) if (!(key in next)) patch[key] = null;
  return patch;
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
