// The routing table's slow thresholds (Route.slow_thresholds): a route asks its filters to tally
// per user group the requests above stable's pre-step p99 T0 (stable) and r·T0 (the compared
// variant) only once the analysis state holds that baseline, and only while a step is analysed;
// at a shadow step the compared variant's threshold goes to the shadow route.
import { describe, expect, it } from "vitest";
import { buildDirective, routeTable } from "../../controller/app/directive.js";
import type { RolloutState } from "../../controller/rollout/types.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import { minimal } from "../fixtures/spec/rejections.js";

const T0 = 80_000;
const spec = withDefaults(
  minimal({
    analysis: {
      checks: [
        { name: "p99", latency: { quantile: 0.99, maxRatio: 1.5 } },
        { name: "p99-ceiling", latency: { quantile: 0.99, maxMs: 500 } },
        { name: "errors", failureRate: { maxRatio: 2 } },
      ],
    },
  }).spec as CanarySpec,
);

const withBaseline = { version: 2, baselines: { stableLatencyUs: { "0.99": T0 } } };

function state(over: Partial<RolloutState> & { mirrorBp?: number }): RolloutState {
  const { mirrorBp, ...rest } = over;
  return {
    phase: "Progressing",
    step: 0,
    weightBp: 100,
    routingVersion: 2,
    stepStartedAt: 1_000,
    plan: {
      strategy: "canary",
      steps: [{ weightBp: 100, gate: "analysis", ...(mirrorBp ? { mirrorBp } : {}) }],
    },
    ...rest,
  } as unknown as RolloutState;
}

const both = [
  { variant: "stable", thresholdUs: T0 },
  { variant: "canary", thresholdUs: 1.5 * T0 },
];

describe("routeTable slow thresholds", () => {
  const cases: { name: string; state: RolloutState; routes: Record<string, unknown[] | undefined> }[] = [
    {
      name: "a step being analysed, baseline known",
      state: state({ analysisState: withBaseline }),
      routes: { "reviews.default.svc.cluster.local": both },
    },
    {
      name: "paused at such a step",
      state: state({ phase: "Paused", analysisState: withBaseline }),
      routes: { "reviews.default.svc.cluster.local": both },
    },
    {
      name: "a step before the baseline is known",
      state: state({ analysisState: { version: 2 } }),
      routes: { "reviews.default.svc.cluster.local": undefined },
    },
    {
      name: "no analysis state yet",
      state: state({}),
      routes: { "reviews.default.svc.cluster.local": undefined },
    },
    {
      name: "an older analysis state format",
      state: state({ analysisState: { ...withBaseline, version: 1 } }),
      routes: { "reviews.default.svc.cluster.local": undefined },
    },
    {
      name: "the next step's routing not yet in force (the state still holds the last step's)",
      state: state({ stepStartedAt: undefined, analysisState: withBaseline }),
      routes: { "reviews.default.svc.cluster.local": undefined },
    },
    {
      name: "outside a step: promoted",
      state: state({ phase: "Succeeded", weightBp: 0, analysisState: withBaseline }),
      routes: { "reviews.default.svc.cluster.local": undefined },
    },
    {
      name: "outside a step: promoting",
      state: state({ phase: "Promoting", analysisState: withBaseline }),
      routes: { "reviews.default.svc.cluster.local": undefined },
    },
    {
      name: "outside a step: rolled back",
      state: state({ phase: "RolledBack", weightBp: 0, analysisState: withBaseline }),
      routes: { "reviews.default.svc.cluster.local": undefined },
    },
    {
      name: "a shadow step: stable's on the route, the compared variant's on the shadow route",
      state: state({ weightBp: 0, mirrorBp: 1000, analysisState: withBaseline }),
      routes: {
        "reviews.default.svc.cluster.local": [both[0]],
        "reviews.default.svc.cluster.local-shadow": [{ variant: "shadow", thresholdUs: 1.5 * T0 }],
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const table = routeTable([{ canaryId: "default/reviews", spec, state: c.state }]);
      const got = Object.fromEntries(
        table.map((r) => [r.host, "slowThresholds" in r ? r.slowThresholds : undefined]),
      );
      expect(got).toEqual(c.routes);
    });
  }

  it("carries them into the Directive as Route.slow_thresholds", () => {
    const table = routeTable([
      { canaryId: "default/reviews", spec, state: state({ analysisState: withBaseline }) },
    ]);
    const d = buildDirective(7, table);
    expect(d.routes[0]!.slowThresholds.map((t) => [t.variant, t.thresholdUs])).toEqual([
      ["stable", BigInt(T0)],
      ["canary", BigInt(1.5 * T0)],
    ]);
  });
});
