// The rollout marker (controller/mesh/variant-match.ts): a per-rollout secret the Directive gives
// each route. Variant routes match it next to x-meshcanary-variant, so a client that names a
// variant itself (no filter on its path) takes the weighted fallback instead. Pure AssemblyScript.

/** Header the filter sets to the route's marker, after removing every client-sent copy. */
export const MARKER_HEADER = "x-meshcanary-marker";

/** Marker length: 128 bits as hex. */
const MARKER_CHARS = 32;

/** Whether `s` is a marker as the controller issues them: 32 lower-case hex digits. */
export function isMarker(s: string): bool {
  if (s.length != MARKER_CHARS) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}
