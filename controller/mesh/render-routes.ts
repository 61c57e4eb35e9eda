/**
 * Renders the routes a canary owns and the destinations it puts on the target route.
 *
 * A rendered route is the target route with three things replaced:
 * - `name`: "meshcanary-<canary name>-<variant>" (pins: "…-pin-<variant>", "…-pin-cookie-<variant>");
 * - `match`: each of the target's match clauses AND the variant (or pin) header, so a marked request
 *   only leaves the target route's path/method/authority scope it would have matched anyway; a
 *   variant route also needs the rollout's marker (variant-match.ts) and removes it upstream;
 * - `route`: one destination, the variant's subset (port and per-destination headers copied from
 *   the target's destination for the host).
 * Everything else (timeout, retries, headers, rewrite, corsPolicy, fault, mirror…) is copied as is:
 * a marked request must behave exactly as the unmarked one except for the subset, and faults or
 * mirrors then apply to stable and canary alike, which keeps their comparison fair. The exception
 * is a shadow (intent.mirror): the variant header route of `mirror.from` mirrors to the shadow's
 * subset instead (Envoy sends the copy with its authority suffixed "-shadow").
 */
import { percentWeights } from "./percent-weights.js";
import type { HttpMatch, HttpRoute, MeshIntent, RouteDestination } from "./types.js";
import { type HeaderCondition, headerKinds } from "./header-kinds.js";
import { canaryName } from "./validate-intent.js";

/** Prefix of every route name a canary owns. */
export function ownedPrefix(canary: string): string {
  return `meshcanary-${canaryName(canary)}-`;
}

/**
 * Every route name the canary of `intent` can own: per variant its header route and both pin routes
 * (whether or not pins are on now, so turning them off still removes them). Ownership is by these
 * exact names, never by prefix: "meshcanary-shop-" is also the start of canary shop-web's routes.
 */
export function ownedNames(intent: MeshIntent): Set<string> {
  const prefix = ownedPrefix(intent.canary);
  const out = new Set<string>();
  for (const w of intent.weights) {
    for (const kind of ["", "pin-", "pin-cookie-"]) out.add(`${prefix}${kind}${w.variant}`);
  }
  return out;
}

/** True when the destination's host is `host`, allowing short vs fully qualified names. */
export function sameHost(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

/** The routes a canary owns, in order: variant header routes, then pin header, then pin cookie. */
export function renderOwnedRoutes(
  target: HttpRoute,
  template: RouteDestination,
  intent: MeshIntent,
): HttpRoute[] | { error: string } {
  const prefix = ownedPrefix(intent.canary);
  const routes: HttpRoute[] = [];
  for (const kind of headerKinds(intent)) {
    for (const w of intent.weights) {
      const match = withHeaders(target.match, kind.conditions(w.variant));
      if ("error" in match) return match;
      const mirror = kind.suffix === "" ? mirrorOf(intent, w.variant, template) : {};
      routes.push(
        withRemovedHeaders(
          {
            name: `${prefix}${kind.suffix}${w.variant}`,
            match,
            ...routeSettings(target),
            route: [destination(template, intent.host, w.subset, undefined)],
            ...mirror,
          },
          kind.removed,
        ),
      );
    }
  }
  return routes;
}

/** `route` also removing `names` from the request before it goes upstream (after the target's own removals). */
function withRemovedHeaders(route: HttpRoute, names: string[]): HttpRoute {
  if (names.length === 0) return route;
  const request = route.headers?.request ?? {};
  const remove = [...(request.remove ?? []), ...names.filter((n) => !(request.remove ?? []).includes(n))];
  return { ...route, headers: { ...route.headers, request: { ...request, remove } } };
}

/** Istio's mirror fields for the variant's header route, when the intent mirrors its requests. */
function mirrorOf(intent: MeshIntent, variant: string, template: RouteDestination): HttpRoute {
  const m = intent.mirror;
  if (m === undefined || m.from !== variant) return {};
  const host = template.destination.host ?? intent.host;
  return {
    mirror: {
      host,
      subset: m.subset,
      ...(template.destination.port ? { port: template.destination.port } : {}),
    },
    mirrorPercentage: { value: m.bp / 100 },
  };
}

/** The target route's weighted destinations (the fallback for requests the filter did not mark). */
export function renderWeightedDestinations(
  template: RouteDestination,
  intent: MeshIntent,
): RouteDestination[] {
  const percents = percentWeights(intent.weights.map((w) => w.weightBp));
  return intent.weights
    .map((w, i) => destination(template, intent.host, w.subset, percents[i]))
    .filter((d) => (d.weight ?? 0) > 0);
}

/** The target route's destinations after promotion: everything to one subset. */
export function renderFinalDestinations(
  template: RouteDestination,
  host: string,
  subset: string,
): RouteDestination[] {
  return [destination(template, host, subset, undefined)];
}

function destination(
  template: RouteDestination,
  host: string,
  subset: string,
  weight: number | undefined,
): RouteDestination {
  const d: RouteDestination = {
    ...template,
    destination: { ...template.destination, host: template.destination.host ?? host, subset },
  };
  if (weight === undefined) delete d.weight;
  else d.weight = weight;
  return d;
}

/** The target route without the fields a rendered route replaces. */
function routeSettings(target: HttpRoute): HttpRoute {
  const settings = { ...target };
  delete settings.name;
  delete settings.match;
  delete settings.route;
  return settings;
}

function withHeaders(
  matches: HttpMatch[] | undefined,
  conditions: HeaderCondition[],
): HttpMatch[] | { error: string } {
  const clauses: HttpMatch[] = matches && matches.length > 0 ? matches : [{}];
  const out: HttpMatch[] = [];
  for (const [i, m] of clauses.entries()) {
    const headers = { ...(m.headers ?? {}) };
    for (const { name, value, regex } of conditions) {
      if (headers[name] !== undefined) {
        return {
          error: `target route match[${i}] already matches header "${name}"; cannot add the meshcanary condition`,
        };
      }
      headers[name] = regex ? { regex: value } : { exact: value };
    }
    out.push({ ...m, headers } as HttpMatch);
  }
  return out;
}
