/**
 * planVirtualService(observed, intent) → the VirtualService a canary wants, or why it cannot be had.
 *
 * Ownership: a canary owns the http routes it renders ("meshcanary-<canary name>-<variant>" and its
 * pin routes) and any other route with its name prefix that no longer-named canary with state claims
 * (shop and shop-web share "meshcanary-shop-"), and the destinations of its target route while active. Everything else is copied through untouched.
 *
 * Foreign-edit rule: the state annotation keeps a digest of what we last wrote (our routes + the
 * target route's destinations). We overwrite our part only when it still equals that digest (it
 * is ours as we left it) or already equals what we would render. Anything else means someone else
 * edited it, and we report ForeignEdit instead of clobbering. Routes with our prefix but no state
 * entry are foreign too (we cannot know the original route to restore). To resolve, restore or
 * delete the edited routes.
 *
 * Placement: our block goes to the top of spec.http on first apply; later plans keep it where it
 * is, so a route someone put above ours is not reordered.
 */
import { canonicalJson, digestOf, readMeshState, writeMeshState } from "./mesh-state.js";
import {
  ownedNames,
  ownedPrefix,
  renderFinalDestinations,
  renderOwnedRoutes,
  renderWeightedDestinations,
  sameHost,
} from "./render-routes.js";
import type {
  HttpRoute,
  MeshIntent,
  MeshPlan,
  MeshPlanError,
  RouteDestination,
  VirtualService,
} from "./types.js";
import { validateIntent } from "./validate-intent.js";

/** Options the planner cannot see in the VirtualService itself. */
export interface PlanOptions {
  /** DestinationRule subsets defined for the host; when given, unknown subsets are SubsetMissing. */
  subsets?: readonly string[];
}

export function planVirtualService(
  observed: VirtualService,
  intent: MeshIntent,
  options: PlanOptions = {},
): MeshPlan | MeshPlanError {
  const invalid = validateIntent(intent, options.subsets);
  if (invalid) return invalid;
  const read = readMeshState(observed);
  if ("error" in read) return { error: read.error, condition: "ForeignEdit" };
  const stateMap = read.state;

  const http = observed.spec?.http ?? [];
  const isOwned = ownership(intent, stateMap);
  const owned = http.filter(isOwned);
  const others = http.filter((r) => !isOwned(r));
  const firstOwned = http.findIndex(isOwned);
  const insertAt = firstOwned < 0 ? 0 : http.slice(0, firstOwned).filter((r) => !isOwned(r)).length;
  const state = stateMap[intent.canary];

  if (!state && !intent.active && owned.length === 0) return { vs: observed, changed: false };

  const targetIndex = findTarget(others, intent);
  if (typeof targetIndex === "object") return targetIndex;
  const target = others[targetIndex];
  const current = digestOf(owned, target.route);
  if (!state && owned.length > 0) {
    return foreign(
      `routes ${names(owned)} carry meshcanary's name prefix but no ${intent.canary} state annotation`,
    );
  }

  const original = state?.original ?? target.route ?? [];
  const template = original.find((d) => sameHost(d.destination.host, intent.host));
  if (!template) {
    return {
      error: `spec.http[${http.indexOf(target)}] (${describe(target)}): no destination for host ${intent.host}`,
      condition: "TargetRouteMissing",
    };
  }
  const onlyHost = original.every((d) => sameHost(d.destination.host, intent.host));
  if (!onlyHost) {
    return {
      error: `spec.http[${http.indexOf(target)}] (${describe(target)}): also routes to other hosts; meshcanary splits only a route whose destinations are all ${intent.host}`,
      condition: "TargetRouteMissing",
    };
  }

  const desired = renderDesired(target, template, intent, original);
  if ("error" in desired) return { error: desired.error, condition: "InvalidIntent" };
  const wanted = digestOf(desired.owned, desired.destinations);
  if (state && current !== state.digest && current !== wanted) {
    const edited = describeEdit(owned, target, desired);
    return foreign(`${edited} changed outside meshcanary since it last wrote them (digest ${state.digest})`);
  }

  const nextTarget: HttpRoute = { ...target, route: desired.destinations };
  const rest = others.map((r, i) => (i === targetIndex ? nextTarget : r));
  const nextHttp = [...rest.slice(0, insertAt), ...desired.owned, ...rest.slice(insertAt)];
  const nextState = { ...stateMap };
  if (intent.active) nextState[intent.canary] = { original, digest: wanted };
  else delete nextState[intent.canary];
  // A deep copy, so callers may edit the plan without touching the observed object.
  const vs = structuredClone(
    writeMeshState({ ...observed, spec: { ...observed.spec, http: nextHttp } }, nextState),
  );
  return { vs, changed: canonicalJson(vs) !== canonicalJson(observed) };
}

/**
 * Which routes the intent's canary owns: the names it renders, and the other routes with its name
 * prefix unless they carry the longer prefix of another canary the state annotation knows (shop's
 * "meshcanary-shop-" must not take shop-web's "meshcanary-shop-web-canary"). An inactive intent has
 * no variants, so its routes are found by prefix.
 */
export function ownership(
  intent: MeshIntent,
  stateMap: Record<string, unknown>,
): (r: { name?: string }) => boolean {
  const mine = ownedNames(intent);
  const prefix = ownedPrefix(intent.canary);
  const longer = Object.keys(stateMap)
    .filter((c) => c !== intent.canary)
    .map(ownedPrefix)
    .filter((p) => p.length > prefix.length && p.startsWith(prefix));
  return (r) =>
    r.name !== undefined &&
    (mine.has(r.name) || (r.name.startsWith(prefix) && !longer.some((p) => r.name!.startsWith(p))));
}

interface Desired {
  owned: HttpRoute[];
  destinations: RouteDestination[];
}

function renderDesired(
  target: HttpRoute,
  template: RouteDestination,
  intent: MeshIntent,
  original: RouteDestination[],
): Desired | { error: string } {
  if (!intent.active) {
    const destinations =
      intent.finalSubset !== undefined
        ? renderFinalDestinations(template, intent.host, intent.finalSubset)
        : original;
    return { owned: [], destinations };
  }
  const owned = renderOwnedRoutes(target, template, intent);
  if ("error" in owned) return owned;
  return { owned, destinations: renderWeightedDestinations(template, intent) };
}

/** Index of the target route among the routes we do not own. */
function findTarget(others: HttpRoute[], intent: MeshIntent): number | MeshPlanError {
  const missing = (error: string): MeshPlanError => ({ error, condition: "TargetRouteMissing" });
  if (intent.routeName !== undefined) {
    const i = others.findIndex((r) => r.name === intent.routeName);
    return i >= 0
      ? i
      : missing(`routeName: no http route named "${intent.routeName}" (routes: ${names(others)})`);
  }
  const candidates = others.filter((r) => !r.name?.startsWith("meshcanary-"));
  if (candidates.length === 1) return others.indexOf(candidates[0]);
  const i = others.findIndex(
    (r) =>
      !r.name?.startsWith("meshcanary-") &&
      (r.route ?? []).some((d) => sameHost(d.destination.host, intent.host)),
  );
  return i >= 0 ? i : missing(`host: no http route sends to ${intent.host} (routes: ${names(others)})`);
}

/** Names what differs from our rendering: edited, extra or missing routes, or the target's destinations. */
function describeEdit(owned: HttpRoute[], target: HttpRoute, desired: Desired): string {
  const rendered = new Map(desired.owned.map((r) => [r.name, canonicalJson(r)]));
  const differing = owned.filter((r) => rendered.get(r.name) !== canonicalJson(r)).map((r) => r.name ?? "");
  const present = new Set(owned.map((r) => r.name));
  const missing = desired.owned.filter((r) => !present.has(r.name)).map((r) => `${r.name} (deleted)`);
  const parts = [...differing, ...missing].map((n) => `route "${n}"`);
  if (canonicalJson(target.route ?? null) !== canonicalJson(desired.destinations)) {
    parts.push(`destinations of ${describe(target)}`);
  }
  return parts.join(", ");
}

function foreign(error: string): MeshPlanError {
  return { error: `${error}; restore or delete them to let meshcanary continue`, condition: "ForeignEdit" };
}

function describe(route: HttpRoute): string {
  return route.name ? `route "${route.name}"` : "unnamed route";
}

function names(routes: HttpRoute[]): string {
  return routes.length ? routes.map((r) => (r.name ? `"${r.name}"` : "(unnamed)")).join(", ") : "none";
}
