/**
 * Which routing object a Canary drives and how it names its two versions. A VirtualService splits
 * one host by DestinationRule subsets; a Gateway API HTTPRoute has no subsets and splits between
 * backendRefs, i.e. one Service per version (reviews-v1, reviews-v2). Any other pairing cannot be
 * written, so validation refuses it and says why.
 */
import type { CanarySpec } from "./schema.js";

/** The routing object kind a Canary drives. */
export type RoutingKind = "VirtualService" | "HTTPRoute";

/** The stable or canary version as the routing object names it: a subset or a Service name. */
export function backendOf(version: CanarySpec["stable"]): string {
  return version.subset ?? version.service ?? "";
}

/** The routing object a (validated) spec names: its kind, name and optional route/rule name. */
export function routingTarget(spec: CanarySpec): { kind: RoutingKind; name: string; route?: string } {
  if (spec.httpRoute !== undefined) {
    const rule = spec.httpRoute.rule;
    return { kind: "HTTPRoute", name: spec.httpRoute.name, ...(rule !== undefined ? { route: rule } : {}) };
  }
  const route = spec.virtualService?.route;
  return { kind: "VirtualService", name: spec.virtualService?.name ?? "", ...(route ? { route } : {}) };
}

/** Reports one problem at a path under the spec. */
type Add = (path: string, message: string) => void;

/** The pairing rules of routing target and version names. */
export function routingErrors(spec: CanarySpec, add: Add): void {
  const hasVs = spec.virtualService !== undefined;
  const hasRoute = spec.httpRoute !== undefined;
  if (hasVs === hasRoute) {
    add(
      hasVs ? "httpRoute" : "virtualService",
      hasVs
        ? "must not be set together with virtualService: a Canary drives one routing object"
        : "is required unless httpRoute is set: a Canary needs a VirtualService or an HTTPRoute to split",
    );
    return;
  }
  const [want, other, why] = hasVs
    ? (["subset", "service", "spec.virtualService splits one host by DestinationRule subsets"] as const)
    : ([
        "service",
        "subset",
        "spec.httpRoute splits between backendRefs, which name Services, not subsets",
      ] as const);
  if (hasRoute && spec.strategy.shadow !== undefined) {
    add(
      "strategy.shadow",
      "is not supported with spec.httpRoute yet: meshcanary mirrors through a VirtualService's mirror; use spec.virtualService for a shadow release",
    );
  }
  for (const who of ["stable", "canary"] as const) {
    const version = spec[who];
    if (version[other] !== undefined) {
      add(
        `${who}.${other}`,
        `must not be set: ${why}; set ${who}.${want}, got ${JSON.stringify(version[other])}`,
      );
    } else if (version[want] === undefined) {
      add(`${who}.${want}`, `is required: ${why}`);
    }
  }
  const stable = spec.stable[want];
  if (stable !== undefined && stable === spec.canary[want]) {
    add(`canary.${want}`, `must differ from stable.${want}, got ${JSON.stringify(stable)} for both`);
  }
}
