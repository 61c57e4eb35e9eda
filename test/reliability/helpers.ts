/** Shared pieces of the reliability suites: controllers with chosen options, and checks on what they left behind. */
import pino from "pino";
import { expect } from "vitest";
import { type RunningController, startController } from "../../controller/app/controller.js";
import type { RetryPolicy } from "../../controller/kube/errors.js";
import type { TelemetryReader } from "../../controller/telemetry/types.js";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import {
  healthySpec,
  type Json,
  NS,
  targetWeights,
  until,
  type World,
  type WorldApi,
} from "../controller/harness.js";

export interface ControllerChoice {
  /** Telemetry port; 0 picks one (a restarted controller reuses its predecessor's). */
  port?: number;
  identity?: string;
  leaderElection?: boolean;
  kubeRetry?: RetryPolicy;
  /** Deliver the Canaries' webhooks (default off). */
  webhooks?: boolean;
  /** Default: silent. */
  logger?: pino.Logger;
  /** Lease this replica writes once it leads; default 2 s. */
  leaseDurationSeconds?: number;
  /** How long it keeps its telemetry streams after it stopped leading; default the controller's. */
  streamGraceMs?: number;
}

/** Starts a controller against the world's API; the caller closes it. */
export function startControllerIn(
  world: World<WorldApi>,
  choice: ControllerChoice = {},
): Promise<RunningController> {
  return startController({
    kubeconfigText: world.api.kubeconfig(),
    namespace: NS,
    telemetry: { port: choice.port ?? 0, host: "127.0.0.1" },
    leaderElection: {
      enabled: choice.leaderElection ?? false,
      namespace: world.leaseNamespace,
      name: "meshcanary-controller",
      identity: choice.identity ?? "test",
      leaseDurationSeconds: choice.leaseDurationSeconds ?? 2,
      retryPeriodMs: 200,
      ...(choice.streamGraceMs !== undefined ? { streamGraceMs: choice.streamGraceMs } : {}),
    },
    tickMs: 200,
    webhooks: choice.webhooks ?? false,
    logger: choice.logger ?? pino({ level: "silent" }),
    ...(choice.kubeRetry ? { kubeRetry: choice.kubeRetry } : {}),
  });
}

/** Waits for the Canary to reach a phase (and step), returning it. */
export function phaseOf(
  world: World<WorldApi>,
  name: string,
  phase: string,
  step?: number,
  limitMs = 20_000,
): Promise<Json> {
  return until(
    `${name} in ${phase}${step === undefined ? "" : ` at step ${step}`}`,
    async () => {
      const c = await world.canary(name);
      return c.status?.phase === phase && (step === undefined || c.status.step === step) ? c : undefined;
    },
    limitMs,
  );
}

/** Each rollout step entered exactly once, in order, in status history and in Events. */
export async function expectEachStepOnce(
  world: World<WorldApi>,
  name: string,
  canary: Json,
  steps: number,
): Promise<void> {
  const entered = (canary.status.history as Json[]).filter((h) => h.to === "Progressing").map((h) => h.step);
  expect(entered).toEqual(Array.from({ length: steps }, (_, i) => i));
  const events = (await world.events(name)).filter((e) => e.reason === "Progressing");
  const byStep = events.map((e) => e.message.match(/step (\d+)\//)?.[1]);
  expect(byStep).toEqual(Array.from({ length: steps }, (_, i) => String(i + 1)));
  expect(events.map((e) => e.count ?? 1)).toEqual(Array(steps).fill(1));
  const promotions = (await world.events(name)).filter((e) => e.reason === "Promoting");
  expect(promotions.map((e) => e.count ?? 1)).toEqual([1]);
}

/**
 * Requests per 1-s window (all variants) the controller counted for a canary; a controller that took
 * a reporter's cumulative totals for new traffic would show one window far above the offered rate.
 */
export function requestsPerWindow(reader: TelemetryReader, canaryId: string): number[] {
  return reader.series(canaryId, 0, Number.MAX_SAFE_INTEGER).map((p) => {
    let n = 0;
    for (const s of p.variants.values()) n += s.requests;
    return n;
  });
}

/** Offered rate of the rollouts the resume suites (restart, leader-move, kill) interrupt mid-step. */
export const RESUME_RPS = 5000;

/** The three-step healthy rollout those suites interrupt at step 1. */
export function createResumeCanary(world: World<WorldApi>, name: string): Promise<void> {
  return world.createCanary(
    name,
    healthySpec([10, 30, 60], { analysis: { minStepDuration: "2s", minRequests: 50 } }),
  );
}

/** One reporter that reconnects (to each address in turn) keeping its instance and cumulative totals. */
export function startResumeReporter(name: string, addresses: string[]): ReporterSim {
  return startReporterSim({
    address: addresses[0]!,
    moreAddresses: addresses.slice(1),
    canary: `${NS}/${name}`,
    rps: RESUME_RPS,
    failureRate: { stable: 0.002, canary: 0.002 },
    reconnectMs: 100,
  });
}

/**
 * After the interruption: the rollout finishes with each step and the promotion once, and `after`
 * (the controller that finished it) took the reporter's totals sent before it (`sentBefore`) as a
 * baseline: one 1-s window holds ~RESUME_RPS, a baseline mistaken for traffic would put them all in one.
 */
export async function expectResumedOnce(
  world: World<WorldApi>,
  name: string,
  after: RunningController,
  sentBefore: ReturnType<ReporterSim["sent"]>,
): Promise<void> {
  const done = await phaseOf(world, name, "Succeeded", undefined, 25_000);
  await expectEachStepOnce(world, name, done, 3);
  expect(targetWeights(await world.vs("reviews"))).toEqual({ v2: 100 });
  const perWindow = requestsPerWindow(after.telemetry, `${NS}/${name}`);
  expect(perWindow.length).toBeGreaterThan(2);
  expect(sentBefore.stable.requests + sentBefore.canary.requests).toBeGreaterThan(3 * RESUME_RPS);
  expect(Math.max(...perWindow)).toBeLessThan(2 * RESUME_RPS);
}
