/**
 * The routing table for every filter: one Directive holding a route per Canary this controller
 * manages (the filter replaces its table wholesale), at each rollout's current weights.
 */
import { create } from "@bufbuild/protobuf";
import { type Directive, DirectiveSchema } from "../gen/meshcanary/v1/telemetry_pb.js";
import { desiredRouting } from "../rollout/status.js";
import { llmMetricsOf } from "./llm-directive.js";
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
    .map(({ canaryId, spec, state }) => ({
      host: spec.host,
      aliases: [],
      canary: canaryId,
      variants: desiredRouting(state).variants,
      pin: { header: spec.pins.header, cookie: spec.pins.cookie, requireToken: spec.pins.requireToken },
      sticky: { header: spec.sticky?.header ?? "", cookie: spec.sticky?.cookie ?? "" },
      cohort: spec.cohort ?? canaryId,
      metrics: (spec.metrics ?? []).map((m) => ({ name: m.name, header: m.header })),
      failureCodes: [],
      ...(spec.llm ? { llm: llmMetricsOf(spec.llm) } : {}),
    }));
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
