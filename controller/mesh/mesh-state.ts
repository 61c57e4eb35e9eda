/**
 * The planner's memory, kept on the VirtualService itself so restoring needs no external store:
 * annotation `meshcanary.io/state` = JSON `{ "<ns>/<name>": { original, digest } }`, where
 * `original` is the target route's `route` field before our first change and `digest` identifies
 * exactly what we last wrote (our routes + the target route's destinations).
 */
import { createHash } from "node:crypto";
import { type RouteDestination, STATE_ANNOTATION } from "./types.js";

/** What one canary remembers about its VirtualService (or, with D = BackendRef, its HTTPRoute). */
export interface CanaryMeshState<D = RouteDestination> {
  /** The target route's destinations before meshcanary touched them. */
  original: D[];
  /** Digest of the routes and destinations we last wrote (see `digestOf`). */
  digest: string;
}

export type MeshStateMap<D = RouteDestination> = Record<string, CanaryMeshState<D>>;

/** Any object carrying the state annotation (a VirtualService or an HTTPRoute). */
type Annotated = { metadata?: { annotations?: Record<string, string> } };

/** Reads the state map; a malformed annotation is an error, never silently dropped. */
export function readMeshState<D = RouteDestination>(
  vs: Annotated,
): { state: MeshStateMap<D> } | { error: string } {
  const raw = vs.metadata?.annotations?.[STATE_ANNOTATION];
  if (raw === undefined) return { state: {} };
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return { error: `metadata.annotations["${STATE_ANNOTATION}"]: expected a JSON object, got ${raw}` };
    }
    for (const [key, entry] of Object.entries(parsed as Record<string, unknown>)) {
      const e = entry as Partial<CanaryMeshState> | null;
      if (!e || !Array.isArray(e.original) || typeof e.digest !== "string") {
        return {
          error: `metadata.annotations["${STATE_ANNOTATION}"]["${key}"]: expected {original[], digest}`,
        };
      }
    }
    return { state: parsed as MeshStateMap<D> };
  } catch {
    return { error: `metadata.annotations["${STATE_ANNOTATION}"]: not valid JSON: ${raw}` };
  }
}

/** Returns a copy of vs with the state map written (annotation removed when the map is empty). */
export function writeMeshState<T extends Annotated, D>(vs: T, state: MeshStateMap<D>): T {
  const annotations = { ...(vs.metadata?.annotations ?? {}) };
  if (Object.keys(state).length === 0) delete annotations[STATE_ANNOTATION];
  else annotations[STATE_ANNOTATION] = canonicalJson(state);
  const metadata = { ...(vs.metadata ?? {}) };
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
  else metadata.annotations = annotations;
  return { ...vs, metadata };
}

/** Digest of what we own in a VirtualService; key order does not matter (servers may reorder). */
export function digestOf(ownedRoutes: unknown[], targetDestinations: unknown): string {
  const text = canonicalJson({ routes: ownedRoutes, target: targetDestinations ?? null });
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}
