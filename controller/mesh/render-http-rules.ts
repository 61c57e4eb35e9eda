/**
 * Renders the HTTPRoute rules a canary owns and the backendRefs it puts on the target rule — the
 * Gateway API twin of render-routes.ts. A rendered rule is the target rule with:
 * - `name`: "meshcanary-<canary name>-<variant>" (pins: "…-pin-<variant>", "…-pin-cookie-<variant>");
 * - `matches`: each of the target's matches AND the variant (or pin) header. Gateway API ranks a
 *   match with more header conditions above one with fewer on the same path, so the rendered rule
 *   wins over the target rule for marked requests without depending on rule order;
 * - `backendRefs`: one backend, the variant's Service (port and filters copied from the target's).
 * Filters and timeouts are copied as is, so a marked request behaves as an unmarked one except for
 * the backend. Everything is written with the server's defaults spelled out (path PathPrefix "/",
 * header type Exact, group "", kind Service, weight 1): a defaulting API server then returns what
 * was written, and the digest of our part stays comparable.
 */
import { type HeaderCondition, headerKinds } from "./header-kinds.js";
import type { BackendRef, HeaderMatch, HttpRouteMatch, HttpRouteRule } from "./http-route-types.js";
import { ownedPrefix } from "./render-routes.js";
import type { MeshIntent } from "./types.js";

/** The rules a canary owns, in order: variant header rules, then pin header, then pin cookie. */
export function renderOwnedRules(
  target: HttpRouteRule,
  template: BackendRef,
  intent: MeshIntent,
): HttpRouteRule[] | { error: string } {
  const prefix = ownedPrefix(intent.canary);
  const rules: HttpRouteRule[] = [];
  for (const kind of headerKinds(intent)) {
    for (const w of intent.weights) {
      const matches = withHeaders(target.matches, kind.conditions(w.variant));
      if ("error" in matches) return matches;
      rules.push(
        withRemovedHeaders(
          {
            ...ruleSettings(target),
            name: `${prefix}${kind.suffix}${w.variant}`,
            matches,
            backendRefs: [backend(template, w.subset, 1)],
          },
          kind.removed,
        ),
      );
    }
  }
  return rules;
}

/**
 * The target rule's weighted backendRefs (the fallback for requests the filter did not mark).
 * Gateway API weights are proportions (0..1,000,000), so the basis points are written as they are:
 * no rounding to percents, a 0.01% canary keeps its exact share. Zero shares are left out.
 */
export function renderWeightedBackends(template: BackendRef, intent: MeshIntent): BackendRef[] {
  return intent.weights.filter((w) => w.weightBp > 0).map((w) => backend(template, w.subset, w.weightBp));
}

/** The target rule's backendRefs after promotion (or undo): everything to one Service. */
export function renderFinalBackends(template: BackendRef, service: string): BackendRef[] {
  return [backend(template, service, 1)];
}

/** Why a backendRef cannot be split by meshcanary, or undefined when it is a Service with a port. */
export function unsplittable(ref: BackendRef, namespace: string | undefined): string | undefined {
  if ((ref.group ?? "") !== "" || (ref.kind ?? "Service") !== "Service") {
    return `is a ${ref.group ? `${ref.group}/` : ""}${ref.kind}; meshcanary splits only between Services`;
  }
  if (ref.namespace !== undefined && ref.namespace !== namespace) {
    return `is in namespace ${ref.namespace}; meshcanary's backends live in the HTTPRoute's namespace`;
  }
  if (ref.port === undefined) return "has no port (Gateway API requires one for a Service)";
  return undefined;
}

function backend(template: BackendRef, service: string, weight: number): BackendRef {
  return { ...template, group: "", kind: "Service", name: service, weight };
}

/** The target rule without the fields a rendered rule replaces. */
function ruleSettings(target: HttpRouteRule): HttpRouteRule {
  const settings = { ...target };
  delete settings.name;
  delete settings.matches;
  delete settings.backendRefs;
  return settings;
}

function withHeaders(
  matches: HttpRouteMatch[] | undefined,
  conditions: HeaderCondition[],
): HttpRouteMatch[] | { error: string } {
  const clauses: HttpRouteMatch[] = matches && matches.length > 0 ? matches : [{}];
  const out: HttpRouteMatch[] = [];
  for (const [i, m] of clauses.entries()) {
    const headers: HeaderMatch[] = (m.headers ?? []).map((h) => ({ ...h, type: h.type ?? "Exact" }));
    for (const { name, value, regex } of conditions) {
      if (headers.some((h) => h.name.toLowerCase() === name)) {
        return {
          error: `target rule matches[${i}] already matches header "${name}"; cannot add the meshcanary condition`,
        };
      }
      headers.push({ type: regex ? "RegularExpression" : "Exact", name, value });
    }
    const path = { type: m.path?.type ?? "PathPrefix", value: m.path?.value ?? "/" };
    out.push({ ...m, path, headers });
  }
  return out;
}

/**
 * `rule` also removing `names` from the request before it goes upstream. Gateway API allows one
 * RequestHeaderModifier per rule, so the names join the target's own when it has one.
 */
function withRemovedHeaders(rule: HttpRouteRule, names: string[]): HttpRouteRule {
  if (names.length === 0) return rule;
  const filters = [...(rule.filters ?? [])] as Array<Record<string, unknown>>;
  const at = filters.findIndex((f) => f.type === "RequestHeaderModifier");
  const modifier = (at >= 0 ? filters[at]!.requestHeaderModifier : undefined) as
    | { remove?: string[] }
    | undefined;
  const remove = [...(modifier?.remove ?? [])];
  for (const n of names) if (!remove.includes(n)) remove.push(n);
  const filter = { type: "RequestHeaderModifier", requestHeaderModifier: { ...modifier, remove } };
  if (at >= 0) filters[at] = filter;
  else filters.push(filter);
  return { ...rule, filters };
}
