/**
 * The release-strategy scenarios of `meshcanary demo --scenario <name>`, each a whole release
 * through the sandbox's sidecar (real Envoy where installed) and the real controller:
 * - blue-green: reviews is switched and kept; ratings is switched, fails inside its scrutiny window
 *   and is switched back. Measured: from each decision (the status history entry) to the last
 *   request sent that was still answered by the wrong colour — after that every filter sends 100%
 *   to the right one.
 * - ab-test: a 50/50 split sticky by user, v2 failing more often; the comparison report shows the
 *   effect with its interval, nobody changes variant during the test, nothing is promoted.
 * - shadow: every reviews/ratings request mirrored to v2 through its receiving-side sidecar; the
 *   healthy shadow is promoted into canary steps, the faulty one stopped — and no user ever saw it.
 */
import { startLoad } from "../apps/load-generator.js";
import { STICKY_HEADER } from "./environment.js";
import {
  ms,
  sampleCanary,
  type StrategyResult,
  type StrategyScenario,
  type StrategyStatus,
} from "./strategy-demo.js";

/** The demo's analysis: 1-s blocks (the load draws requests independently), thresholds as the canary demo's. */
function analysis(speed: number, extra: object = {}) {
  return {
    alpha: 0.01,
    minRequests: 100,
    minStepDuration: ms(3000 / speed),
    blockDuration: "1s",
    ...extra,
  };
}

/**
 * The failure ceiling decides after a blue-green switch (no stable traffic left); the latency
 * ceiling is loose because one sandbox app then serves every request on a shared machine.
 */
const CHECKS = [
  { name: "failure-rate", failureRate: { max: 2, maxIncrease: 0 } },
  { name: "latency-p90", latency: { quantile: 0.9, maxMs: 500 } },
];

function atOf(s: StrategyStatus, to: string, step?: number): number | undefined {
  const e = s.history?.find((h) => h.to === to && (step === undefined || h.step === step));
  return e ? Date.parse(e.at) : undefined;
}

/**
 * From a decision to the last request sent (before the next decision) that got the wrong colour,
 * 0 when none did, over the answers of a probe load: after that every filter routes to the right one.
 */
export function switchLag(
  answers: readonly [number, string][],
  decisionMs: number,
  right: string,
  untilMs = Number.POSITIVE_INFINITY,
): { lagMs: number; wrong: number; after: number; wrongAtMs: number[] } {
  let last = decisionMs;
  let wrong = 0;
  const wrongAtMs: number[] = [];
  let after = 0;
  for (const [sentAt, version] of answers) {
    if (sentAt < decisionMs || sentAt >= untilMs) continue;
    after++;
    if (version === right) continue;
    wrong++;
    if (wrongAtMs.length < 20) wrongAtMs.push(sentAt - decisionMs);
    last = Math.max(last, sentAt);
  }
  return { lagMs: last - decisionMs, wrong, after, wrongAtMs };
}

/** The probe's rate; it sends in 20-ms ticks, which bounds the resolution of a switch time. */
const PROBE_RPS = 100;

/** Probe answers wanted after the last decision before the loads stop (a second at PROBE_RPS). */
const MIN_ANSWERS_AFTER = 100;

/** Waits until every service's probe has `n` answers sent at or after `fromMs`, or `limitMs` passed. */
async function answersAfter(
  answers: ReadonlyMap<string, readonly [number, string][]>,
  fromMs: number,
  n: number,
  limitMs: number,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  const enough = () => [...answers.values()].every((a) => a.filter(([at]) => at >= fromMs).length >= n);
  while (!enough() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

const blueGreen: StrategyScenario = {
  description: "reviews switched and kept; ratings switched, fails in its scrutiny window, switched back",
  services: (speed, root) =>
    ["reviews", "ratings"].map((name) => ({
      name,
      versions: { v1: {}, v2: {} },
      expect: name === "reviews" ? ("Succeeded" as const) : ("RolledBack" as const),
      canary: sampleCanary(root, "blue-green", name, {
        strategy: { blueGreen: { previewDuration: ms(3000 / speed), scrutinyWindow: ms(20_000 / speed) } },
        analysis: { ...analysis(speed), checks: CHECKS },
      }),
    })),
  async run(ctx) {
    const answers = new Map<string, [number, string][]>();
    const stops: (() => Promise<void>)[] = [];
    for (const s of ctx.services) {
      const host = ctx.sandbox.hostOf(s.name);
      // Testers preview the new colour through a pin; a probe measures what everyone else gets.
      const testers = startLoad({
        target: ctx.sandbox.dataPlane.url,
        authority: host,
        rps: 60,
        users: 20,
        userHeader: STICKY_HEADER,
        headers: { "x-meshcanary-pin": "canary" },
      });
      const seen: [number, string][] = [];
      answers.set(s.name, seen);
      const probe = startLoad({
        target: ctx.sandbox.dataPlane.url,
        authority: host,
        rps: PROBE_RPS,
        users: 1000,
        userHeader: STICKY_HEADER,
        onServed: (at, version) => seen.push([at, version]),
      });
      stops.push(
        () => testers.stop(),
        () => probe.stop(),
      );
    }
    let faulted = false;
    const finals = await ctx.settle((service, st) => {
      if (service === "ratings" && !faulted && st.phase === "Progressing" && st.weightBp === 10000) {
        faulted = true;
        ctx.sandbox.app("ratings", "v2").set({ errorRate: 0.25 });
        ctx.say("        ratings  v2 starts failing 25% of requests (after the switch)");
      }
    });
    // The last decision (ratings' switch back) can end the run at once: keep probing until every
    // service has answers sent after it, or the switch could not be measured at all.
    const decisions = [...finals.values()].flatMap((st) => (st.history ?? []).map((h) => Date.parse(h.at)));
    await answersAfter(answers, Math.max(...decisions), MIN_ANSWERS_AFTER, 10_000);
    for (const stop of stops) await stop();
    const result: StrategyResult = { failures: [], figures: {}, lines: [] };
    const measure = (service: string, label: string, decision: number | undefined, right: string) => {
      if (decision === undefined) {
        result.failures.push(`${service}: no ${label} decision in status history`);
        return;
      }
      const next = finals
        .get(service)
        ?.history?.map((h) => Date.parse(h.at))
        .find((at) => at > decision && right === "v2");
      const lag = switchLag(answers.get(service) ?? [], decision, right, next);
      result.figures[`${service}.${label}`] = lag;
      result.lines.push(
        `${service}: ${label} to ${right}: ${lag.wrong} of ${lag.after} probe requests sent after the decision got the old colour; every filter on ${right} within ${lag.lagMs} ms (probe ${PROBE_RPS} rps in 20-ms ticks)`,
      );
    };
    measure("reviews", "switch", atOf(finals.get("reviews") ?? {}, "Progressing", 1), "v2");
    measure("ratings", "switch", atOf(finals.get("ratings") ?? {}, "Progressing", 1), "v2");
    measure("ratings", "switchBack", atOf(finals.get("ratings") ?? {}, "RollingBack"), "v1");
    return result;
  },
};

const abTest: StrategyScenario = {
  description: "reviews v1 vs v2 at 50/50, sticky by user; v2 fails 4% of requests against v1's 1%",
  services: (speed, root) => [
    {
      name: "reviews",
      versions: { v1: { errorRate: 0.01 }, v2: { errorRate: 0.04 } },
      expect: "Succeeded",
      canary: sampleCanary(root, "ab-test", "reviews", {
        strategy: { abTest: { weight: 50, duration: ms(30_000 / speed) } },
        analysis: {
          ...analysis(speed),
          checks: CHECKS.map((c) => (c.failureRate ? { name: c.name, failureRate: { maxIncrease: 0 } } : c)),
        },
      }),
    },
  ],
  async run(ctx) {
    // A probe of sticky users: each must be answered by one version only while the split is in force.
    const answers: [number, string, number][] = [];
    const probe = startLoad({
      target: ctx.sandbox.dataPlane.url,
      authority: ctx.sandbox.hostOf("reviews"),
      rps: PROBE_RPS,
      users: 200,
      userHeader: STICKY_HEADER,
      onServed: (at, version, user) => answers.push([at, version, user]),
    });
    const finals = await ctx.settle();
    await probe.stop();
    const st = finals.get("reviews") ?? {};
    const result: StrategyResult = { failures: [], figures: {}, lines: [] };
    const report = st.report as
      | {
          verdict?: string;
          comparisons?: { name: string; measure: string; a: Arm; b: Arm; effect: Effect }[];
        }
      | undefined;
    // Stickiness: from the split in force to the end. The step's start is the decision's time; the
    // routes and the Directive reach every filter after it, which took over a second on a loaded
    // 2-core machine (one user then answered by both), so the window opens 3 s later.
    const from = (st.stepStartedAt ? Date.parse(st.stepStartedAt) : Number.POSITIVE_INFINITY) + 3000;
    const to = atOf(st, "Succeeded") ?? 0;
    const seen = new Map<number, Set<string>>();
    let proxyAnswers = 0;
    for (const [at, version, user] of answers) {
      if (at < from || at >= to) continue;
      // "none": the proxy answered itself (no app did), so no variant served the user.
      if (version === "none") {
        proxyAnswers++;
        continue;
      }
      seen.set(user, (seen.get(user) ?? new Set()).add(version));
    }
    const moved = [...seen.values()].filter((v) => v.size > 1).length;
    result.figures.stickiness = { users: seen.size, moved, proxyAnswers };
    if (seen.size === 0) result.failures.push("no probe user was served during the test");
    if (moved > 0)
      result.failures.push(`${moved} of ${seen.size} users were served by both variants during the test`);
    if (st.weightBp !== 0)
      result.failures.push(`ended at ${st.weightBp} bp canary, expected 0 (no promotion)`);
    for (const c of report?.comparisons ?? []) {
      const pct = (x: number | null | undefined) =>
        x === null || x === undefined ? "–" : `${(x * 100).toFixed(2)}%`;
      result.lines.push(
        `${c.name} (${c.measure}): v1 ${pct(c.a.estimate)} [${pct(c.a.interval.lower)}, ${pct(c.a.interval.upper)}]  v2 ${pct(c.b.estimate)} [${pct(c.b.interval.lower)}, ${pct(c.b.interval.upper)}]  effect ${pct(c.effect?.estimate)} [${pct(c.effect?.interval.lower)}, ${pct(c.effect?.interval.upper)}]`,
      );
    }
    result.lines.push(
      `verdict ${report?.verdict ?? "none"}; ${seen.size} probe users, ${moved} served by both variants`,
    );
    result.figures.report = report;
    if (!report?.comparisons?.length) result.failures.push("no comparison report in status");
    return result;
  },
};

interface Arm {
  estimate: number | null;
  interval: { lower: number; upper: number };
}
type Effect = { estimate: number; interval: { lower: number; upper: number } } | null;

const shadow: StrategyScenario = {
  description:
    "v2 shadows v1 for reviews (healthy: promoted into canary steps) and ratings (faulty: stopped)",
  services: (speed, root) =>
    ["reviews", "ratings"].map((name) => ({
      name,
      versions: { v1: {}, v2: name === "ratings" ? { errorRate: 0.1 } : {} },
      shadowReceiver: "v2",
      expect: name === "reviews" ? ("Succeeded" as const) : ("RolledBack" as const),
      canary: sampleCanary(root, "shadow", name, {
        strategy: {
          shadow: {
            duration: ms(6000 / speed),
            mirrorPercent: 100,
            canarySteps: [20, 50].map((weight) => ({ weight, pause: { duration: ms(3000 / speed) } })),
          },
        },
        analysis: { ...analysis(speed), checks: CHECKS },
      }),
    })),
  async run(ctx) {
    const finals = await ctx.settle();
    const result: StrategyResult = { failures: [], figures: {}, lines: [] };
    for (const s of ctx.services) {
      const windows = ctx.sandbox.controller.telemetry.series(
        `default/${s.name}`,
        0,
        Number.MAX_SAFE_INTEGER,
      );
      const count = (variant: string) =>
        windows.reduce((n, w) => n + (w.variants.get(variant)?.requests ?? 0), 0);
      const served = ctx.sandbox.load(s.name).stats().byVersion;
      result.figures[s.name] = {
        shadowCopies: count("shadow"),
        stable: count("stable"),
        canary: count("canary"),
      };
      result.lines.push(
        `${s.name}: ${finals.get(s.name)?.phase}; shadow copies tallied at v2's inbound ${count("shadow")}, live requests to v2 ${served.get("v2")?.requests ?? 0}`,
      );
      if (count("shadow") === 0) result.failures.push(`${s.name}: no shadow copies tallied`);
    }
    const ratingsV2 = ctx.sandbox.load("ratings").stats().byVersion.get("v2")?.requests ?? 0;
    if (ratingsV2 > 0)
      result.failures.push(`ratings: ${ratingsV2} user requests answered by the faulty shadow`);
    return result;
  },
};

/** Scenario name -> scenario; `meshcanary demo --scenario <name>` runs one. */
export const STRATEGY_SCENARIOS: Record<string, StrategyScenario> = {
  "blue-green": blueGreen,
  "ab-test": abTest,
  shadow,
};
