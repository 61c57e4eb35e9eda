/**
 * planHttpRoute(observed, intent) → the Gateway API HTTPRoute a canary wants, or why it cannot be
 * had. The same discipline as planVirtualService, on rules instead of http routes:
 *
 * - Ownership: the rules named "meshcanary-<canary name>-…" (ownership() of the VirtualService
 *   planner), and the target rule's backendRefs while active. Every other rule, the parentRefs,
 *   hostnames and unknown fields are copied through untouched.
 * - State: annotation meshcanary.io/state keeps, per canary, the target rule's original backendRefs
 *   and a digest of what we last wrote. Our part is overwritten only while it still equals that
 *   digest or already equals what we would render; otherwise ForeignEdit, never a clobber.
 * - Restore: inactive → our rules go, the target gets its original backendRefs back (or, with a
 *   final backend, all traffic to that one Service).
 * - Bounds: Gateway API allows 16 rules and fewer than 128 matches per route; a plan past them is
 *   refused here rather than by the API server's CEL rules.
 *
 * The intent's `weights[].subset` and `finalSubset` name backend Services here (reviews-v1), since
 * an HTTPRoute has no subsets; `host` is the parent Service's host.
 */
import type { BackendRef, HttpRouteObject, HttpRoutePlan, HttpRouteRule } from "./http-route-types.js";
import { MAX_MATCHES, MAX_RULES } from "./http-route-types.js";
import { canonicalJson, digestOf, readMeshState, writeMeshState } from "./mesh-state.js";
import { ownership } from "./plan-virtual-service.js";
import {
  renderFinalBackends,
  renderOwnedRules,
  renderWeightedBackends,
  unsplittable,
} from "./render-http-rules.js";
import type { MeshIntent, MeshPlanError } from "./types.js";
import { validateIntent } from "./validate-intent.js";

export function planHttpRoute(observed: HttpRouteObject, intent: MeshIntent): HttpRoutePlan | MeshPlanError {
  const invalid = validateIntent(intent);
  if (invalid) return invalid;
  const read = readMeshState<BackendRef>(observed);
  if ("error" in read) return { error: read.error, condition: "ForeignEdit" };
  const stateMap = read.state;
  const state = stateMap[intent.canary];
  const rules = observed.spec?.rules ?? [];
  const isOwned = ownership(intent, stateMap);
  const owned = rules.filter(isOwned);
  const others = rules.filter((r) => !isOwned(r));
  const firstOwned = rules.findIndex(isOwned);
  const insertAt = firstOwned < 0 ? 0 : rules.slice(0, firstOwned).filter((r) => !isOwned(r)).length;

  if (!state && !intent.active && owned.length === 0) return { route: observed, changed: false };
  if (!state && owned.length > 0) {
    return foreign(
      `rules ${names(owned)} carry meshcanary's name prefix but no ${intent.canary} state annotation`,
    );
  }
  const targetIndex = findTarget(others, owned, intent, state?.original);
  if (typeof targetIndex === "object") return targetIndex;
  const target = others[targetIndex]!;
  const where = `spec.rules[${rules.indexOf(target)}] (${describe(target)})`;
  const original = state?.original ?? target.backendRefs ?? [];
  const template = original[0];
  if (!template) return missing(`${where}: has no backendRefs to split`);
  for (const [i, ref] of original.entries()) {
    const why = unsplittable(ref, observed.metadata?.namespace);
    if (why) return missing(`${where}.backendRefs[${i}] (${ref.name}) ${why}`);
  }

  const desired = renderDesired(target, template, intent, original);
  if ("error" in desired) return { error: desired.error, condition: "InvalidIntent" };
  const current = digestOf(owned, target.backendRefs);
  const wanted = digestOf(desired.owned, desired.backends);
  if (state && current !== state.digest && current !== wanted) {
    return foreign(
      `${describeEdit(owned, target, desired)} changed outside meshcanary since it last wrote them (digest ${state.digest})`,
    );
  }

  const nextTarget: HttpRouteRule = { ...target, backendRefs: desired.backends };
  const rest = others.map((r, i) => (i === targetIndex ? nextTarget : r));
  const nextRules = [...rest.slice(0, insertAt), ...desired.owned, ...rest.slice(insertAt)];
  const bounds = boundsError(nextRules);
  if (bounds) return { error: bounds, condition: "InvalidIntent" };
  const nextState = { ...stateMap };
  if (intent.active) nextState[intent.canary] = { original, digest: wanted };
  else delete nextState[intent.canary];
  const route = structuredClone(
    writeMeshState({ ...observed, spec: { ...observed.spec, rules: nextRules } }, nextState),
  );
  return { route, changed: canonicalJson(route) !== canonicalJson(observed) };
}

interface Desired {
  owned: HttpRouteRule[];
  backends: BackendRef[];
}

function renderDesired(
  target: HttpRouteRule,
  template: BackendRef,
  intent: MeshIntent,
  original: BackendRef[],
): Desired | { error: string } {
  if (!intent.active) {
    const backends =
      intent.finalSubset !== undefined ? renderFinalBackends(template, intent.finalSubset) : original;
    return { owned: [], backends };
  }
  const owned = renderOwnedRules(target, template, intent);
  if ("error" in owned) return owned;
  return { owned, backends: renderWeightedBackends(template, intent) };
}

/**
 * Index of the target rule among the rules we do not own: the one named by the intent, else the
 * only candidate, else the first whose backends include a Service this canary names (its variants,
 * its final backend, the original backends it remembers, the backends of its own rules).
 */
function findTarget(
  others: HttpRouteRule[],
  owned: HttpRouteRule[],
  intent: MeshIntent,
  original: BackendRef[] | undefined,
): number | MeshPlanError {
  if (intent.routeName !== undefined) {
    const i = others.findIndex((r) => r.name === intent.routeName);
    return i >= 0
      ? i
      : missing(`httpRoute.rule: no rule named "${intent.routeName}" (rules: ${names(others)})`);
  }
  const candidates = others.filter((r) => !r.name?.startsWith("meshcanary-"));
  if (candidates.length === 1) return others.indexOf(candidates[0]!);
  const known = new Set([
    ...intent.weights.map((w) => w.subset),
    ...(intent.finalSubset !== undefined ? [intent.finalSubset] : []),
    ...(original ?? []).map((b) => b.name),
    ...owned.flatMap((r) => (r.backendRefs ?? []).map((b) => b.name)),
  ]);
  const found = candidates.find((r) => (r.backendRefs ?? []).some((b) => known.has(b.name)));
  if (found) return others.indexOf(found);
  return missing(
    `httpRoute.rule: no rule sends to ${[...known].join(", ") || "a known backend"}; name the rule to split (rules: ${names(others)})`,
  );
}

function boundsError(rules: HttpRouteRule[]): string | undefined {
  const matches = rules.reduce((n, r) => n + Math.max(1, r.matches?.length ?? 0), 0);
  if (rules.length > MAX_RULES) {
    return `spec.rules: the split needs ${rules.length} rules, Gateway API allows ${MAX_RULES}; turn off pins or split a rule with fewer matches`;
  }
  if (matches > MAX_MATCHES) {
    return `spec.rules: the split needs ${matches} matches in all, Gateway API allows ${MAX_MATCHES}`;
  }
  return undefined;
}

/** Names what differs from our rendering: edited, extra or missing rules, or the target's backends. */
function describeEdit(owned: HttpRouteRule[], target: HttpRouteRule, desired: Desired): string {
  const rendered = new Map(desired.owned.map((r) => [r.name, canonicalJson(r)]));
  const differing = owned.filter((r) => rendered.get(r.name) !== canonicalJson(r)).map((r) => r.name ?? "");
  const present = new Set(owned.map((r) => r.name));
  const gone = desired.owned.filter((r) => !present.has(r.name)).map((r) => `${r.name} (deleted)`);
  const parts = [...differing, ...gone].map((n) => `rule "${n}"`);
  if (canonicalJson(target.backendRefs ?? null) !== canonicalJson(desired.backends)) {
    parts.push(`backendRefs of ${describe(target)}`);
  }
  return parts.join(", ");
}

function missing(error: string): MeshPlanError {
  return { error, condition: "TargetRouteMissing" };
}

function foreign(error: string): MeshPlanError {
  return { error: `${error}; restore or delete them to let meshcanary continue`, condition: "ForeignEdit" };
}

function describe(rule: HttpRouteRule): string {
  return rule.name ? `rule "${rule.name}"` : "unnamed rule";
}

function names(rules: HttpRouteRule[]): string {
  return rules.length ? rules.map((r) => (r.name ? `"${r.name}"` : "(unnamed)")).join(", ") : "none";
}
