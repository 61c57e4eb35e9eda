/**
 * The rollback-time bench's scenarios (rollback-time.ts): the Canary's checks, the load, the fault
 * at the onset, and the constants the measurement and the report share. Separate so that measuring
 * (rollback-measure.ts) and reporting (rollback-report.ts) read one definition of what was run.
 */
import type { AppBehaviour } from "../sandbox/apps/demo-app.js";
import { DEMO_NAMESPACE } from "../sandbox/demo/manifests.js";
import type { BenchContext } from "./results.js";

export const SERVICE = "reviews";
export const CANARY_ID = `${DEMO_NAMESPACE}/${SERVICE}`;
export const COHORT = `${SERVICE}-demo`;
export const CANARY_WEIGHT_PCT = 50;
/** Weight of the first step of the latency scenario, whose stable traffic is the p99 baseline. */
export const BASELINE_STEP_WEIGHT_PCT = 10;
export const BASE_FAILURE = 0.01;
const FAULT_FAILURE = 0.05;
export const LATENCY_QUANTILE = 0.99;
export const LATENCY_MAX_RATIO = 1.2;

/** The failure-rate check an operator would choose here: no worse than stable, and a 2% ceiling. */
export const FAILURE_CHECK = { name: "failure-rate", failureRate: { max: 2, maxIncrease: 0 } };
/** p99 at most 1.2 × stable's p99 measured before the step. */
const LATENCY_CHECK = {
  name: "latency-p99",
  latency: { quantile: LATENCY_QUANTILE, maxRatio: LATENCY_MAX_RATIO },
};

/** One measured rollout. */
export interface Scenario {
  /** Entry name prefix after "rollback-time.". */
  name: string;
  canaryRps: number;
  checks: unknown[];
  /** What the canary app does from the onset. */
  fault: Partial<AppBehaviour>;
  /** A first step held this long (then approved) so stable's p99 before the 50% step is known. */
  baselineStepMs?: number;
  /** The Canary's analysis.blockDuration when not the demo's 1 s ("0s": per event). */
  blockDuration?: string;
  describe: string;
}

/** The scenarios of a run: all five in full mode, the 100 rps failure scenario in quick mode. */
export function scenarios(ctx: BenchContext): { list: Scenario[]; healthyMs: number; limitMs: number } {
  const failures = (canaryRps: number, name: string): Scenario => ({
    name,
    canaryRps,
    checks: [FAILURE_CHECK],
    fault: { errorRate: FAULT_FAILURE },
    describe: `${canaryRps} canary rps, failures ${BASE_FAILURE * 100}% -> ${FAULT_FAILURE * 100}% on the canary`,
  });
  const latency: Scenario = {
    name: "100rps-latency",
    canaryRps: 100,
    checks: [FAILURE_CHECK, LATENCY_CHECK],
    fault: { extraLatencyMs: 100 },
    baselineStepMs: 15_000,
    describe: "100 canary rps, +100 ms on the canary",
  };
  // The load generator's requests are independent draws, so declaring it (per-event tests) is true here.
  const perEvent = (s: Scenario): Scenario => ({
    ...s,
    name: `${s.name}-per-event`,
    blockDuration: "0s",
    describe: `${s.describe}, blockDuration 0s (per event)`,
  });
  if (ctx.mode === "full") {
    return {
      list: [
        failures(100, "100rps"),
        perEvent(failures(100, "100rps")),
        failures(10, "10rps"),
        latency,
        perEvent(latency),
      ],
      healthyMs: 10_000,
      limitMs: 90_000,
    };
  }
  return { list: [failures(100, "100rps")], healthyMs: 5000, limitMs: 45_000 };
}
