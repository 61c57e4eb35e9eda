/**
 * The routing table for every filter: one Directive holding a route per Canary this controller
 * manages (the filter replaces its table wholesale), at each rollout's current weights.
 */
import { create } from "@bufbuild/protobuf";
import { type Directive, DirectiveSchema } from "../gen/meshcanary/v1/telemetry_pb.js";
import { desiredRouting } from "../rollout/status.js";
import type { RolloutState } from "../rollout/types.js";
import type { SpecWithDefaults } from "../spec/defaults.js";

/** One canary's part of the table. */
export interface RouteSource {
  /** "<namespace>/<name>". */
  canaryId: string;
  spec: SpecWithDefaults;
  state: RolloutState;
}

/** The table's content without a version, in a stable order, for change detection and publishing. */
export function routeTable(sources: readonly RouteSource[]) {
  return [...sources]
    .sort((a, b) => a.canaryId.localeCompare(b.canaryId))
    .flatMap(({ canaryId, spec, state }) => {
      const route = {
        host: spec.host,
        aliases: [] as string[],
        canary: canaryId,
        variants: desiredRouting(state).variants as { name: string; weightBp: number }[],
        pin: { header: spec.pins.header, cookie: spec.pins.cookie, requireToken: spec.pins.requireToken },
        sticky: { header: spec.sticky?.header ?? "", cookie: spec.sticky?.cookie ?? "" },
        cohort: spec.cohort ?? canaryId,
        metrics: (spec.metrics ?? []).map((m) => ({ name: m.name, header: m.header })),
        failureCodes: [] as number[],
      };
      return desiredRouting(state).mirrorBp > 0 ? [route, shadowRoute(route)] : [route];
    });
}

/** Variant name of the mirrored copies, as tallied on the receiving side. */
export const SHADOW_VARIANT = "shadow";

/**
 * The route the shadow's receiving side tallies mirrored copies under: Envoy sends them with the
 * authority's host suffixed "-shadow" (for every name a client may use), all to one variant.
 */
function shadowRoute<R extends { host: string; sticky: { header: string; cookie: string } }>(route: R): R {
  const [name, ns, svc] = route.host.split(".");
  const short = name && ns && svc === "svc" ? [name, `${name}.${ns}`, `${name}.${ns}.svc`] : [];
  return {
    ...route,
    host: `${route.host}-shadow`,
    aliases: short.map((n) => `${n}-shadow`),
    variants: [{ name: SHADOW_VARIANT, weightBp: 10000 }],
    sticky: { header: "", cookie: "" },
  };
}

export type RouteTable = ReturnType<typeof routeTable>;

/** The Directive for a table at a version. */
export function buildDirective(version: number, table: RouteTable): Directive {
  return create(DirectiveSchema, {
    version: BigInt(version),
    routes: table.map((r) => ({
      ...r,
      variants: r.variants.map((v) => ({ name: v.name, weightBp: v.weightBp })),
    })),
  });
}

/** The next Directive version: above the last, and above any earlier process's (wall clock). */
export function nextDirectiveVersion(last: number, nowMs: number): number {
  return Math.max(last + 1, nowMs);
}
