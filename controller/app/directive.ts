/**
 * The routing table for every filter: one Directive holding a route per Canary this controller
 * manages (the filter replaces its table wholesale), at each rollout's current weights.
 */
import { create } from "@bufbuild/protobuf";
import { type Directive, DirectiveSchema } from "../gen/meshcanary/v1/telemetry_pb.js";
import { desiredRouting } from "../rollout/status.js";
import { llmMetricsOf } from "./llm-directive.js";
import { slowThresholdsFor, stepSlowThresholds } from "./slow-directive.js";
import { SHADOW_VARIANT } from "./variant-names.js";
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
      const slow = stepSlowThresholds(spec, state);
      const variants = desiredRouting(state).variants as { name: string; weightBp: number }[];
      const base = {
        host: spec.host,
        aliases: [] as string[],
        canary: canaryId,
        variants,
        pin: { header: spec.pins.header, cookie: spec.pins.cookie, requireToken: spec.pins.requireToken },
        sticky: { header: spec.sticky?.header ?? "", cookie: spec.sticky?.cookie ?? "" },
        cohort: spec.cohort ?? canaryId,
        metrics: (spec.metrics ?? []).map((m) => ({ name: m.name, header: m.header })),
        failureCodes: [] as number[],
        marker: state.marker ?? "",
        ...(spec.llm ? { llm: llmMetricsOf(spec.llm) } : {}),
      };
      const route = { ...base, ...withSlow(slowThresholdsFor(slow, variants)) };
      if (desiredRouting(state).mirrorBp === 0) return [route];
      // The receiving side tallies the mirrored copies as SHADOW_VARIANT: the compared variant's thresholds.
      const shadow = {
        ...shadowRoute(base),
        ...withSlow(slowThresholdsFor(slow, [{ name: SHADOW_VARIANT }])),
      };
      return [route, shadow];
    });
}

/** A route's slowThresholds member, absent when it has none (tables without them stay as they were). */
function withSlow(slowThresholds: { variant: string; thresholdUs: number }[]) {
  return slowThresholds.length > 0 ? { slowThresholds } : {};
}

/**
 * The route the shadow's receiving side tallies mirrored copies under: Envoy sends them with the
 * authority's host suffixed "-shadow" (for every name a client may use), all to one variant.
 */
function shadowRoute<R extends { host: string; sticky: { header: string; cookie: string }; marker: string }>(
  route: R,
): R {
  const [name, ns, svc] = route.host.split(".");
  const short = name && ns && svc === "svc" ? [name, `${name}.${ns}`, `${name}.${ns}.svc`] : [];
  return {
    ...route,
    host: `${route.host}-shadow`,
    aliases: short.map((n) => `${n}-shadow`),
    variants: [{ name: SHADOW_VARIANT, weightBp: 10000 }],
    sticky: { header: "", cookie: "" },
    // The receiving side routes nothing: the rollout's marker must not reach the canary's pods.
    marker: "",
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
      slowThresholds: (r.slowThresholds ?? []).map((t) => ({
        variant: t.variant,
        thresholdUs: BigInt(t.thresholdUs),
      })),
    })),
  });
}

/** The next Directive version: above the last, and above any earlier process's (wall clock). */
export function nextDirectiveVersion(last: number, nowMs: number): number {
  return Math.max(last + 1, nowMs);
}

/** The filter's limit (filter/config.ts MAX_ROUTES): it keeps a table's first 4096 routes and drops the rest. */
export const MAX_DIRECTIVE_ROUTES = 4096;

/** The sources that fit in one table, and the Canaries ("<namespace>/<name>", sorted) left out. */
export interface CappedSources {
  routed: RouteSource[];
  leftOut: string[];
}

/**
 * Caps the table at `max` routes here, so no filter has to cut it (a filter would keep the first
 * routes by id, which may drop a running rollout). Canaries in the last published table keep their
 * place, then rollouts already started (a restarted controller has published nothing yet), then by
 * id: a new Canary never takes a running one's route.
 */
export function capSources(
  sources: readonly RouteSource[],
  published: ReadonlySet<string>,
  max = MAX_DIRECTIVE_ROUTES,
): CappedSources {
  if (sources.length <= max) return { routed: [...sources], leftOut: [] };
  const rank = (s: RouteSource) => (published.has(s.canaryId) ? 0 : s.state.phase !== "Initializing" ? 1 : 2);
  const ordered = [...sources].sort((a, b) => rank(a) - rank(b) || a.canaryId.localeCompare(b.canaryId));
  return {
    routed: ordered.slice(0, max),
    leftOut: ordered
      .slice(max)
      .map((s) => s.canaryId)
      .sort(),
  };
}

/** Why a Canary has no route, worded as what its rollout is missing (status message and condition). */
export function leftOutReason(max = MAX_DIRECTIVE_ROUTES): string {
  return (
    `a route in the filters' routing table: it holds at most ${max} routes and all are taken by ` +
    "Canaries routed before this one; it gets one once one of them is deleted"
  );
}
