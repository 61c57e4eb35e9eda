/** Shared pieces of the reliability suites: controllers with chosen options, and checks on what they left behind. */
import pino from "pino";
import { expect } from "vitest";
import { type RunningController, startController } from "../../controller/app/controller.js";
import type { RetryPolicy } from "../../controller/kube/errors.js";
import type { TelemetryReader } from "../../controller/telemetry/types.js";
import { type Json, NS, until, type World } from "../controller/harness.js";

export interface ControllerChoice {
  /** Telemetry port; 0 picks one (a restarted controller reuses its predecessor's). */
  port?: number;
  identity?: string;
  leaderElection?: boolean;
  kubeRetry?: RetryPolicy;
}

/** Starts a controller against the world's API; the caller closes it. */
export function startControllerIn(world: World, choice: ControllerChoice = {}): Promise<RunningController> {
  return startController({
    kubeconfigText: world.api.kubeconfig(),
    namespace: NS,
    telemetry: { port: choice.port ?? 0, host: "127.0.0.1" },
    leaderElection: {
      enabled: choice.leaderElection ?? false,
      namespace: NS,
      name: "meshcanary-controller",
      identity: choice.identity ?? "test",
      leaseDurationSeconds: 2,
      retryPeriodMs: 200,
    },
    tickMs: 200,
    webhooks: false,
    logger: pino({ level: "silent" }),
    ...(choice.kubeRetry ? { kubeRetry: choice.kubeRetry } : {}),
  });
}

/** Waits for the Canary to reach a phase (and step), returning it. */
export function phaseOf(
  world: World,
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
  world: World,
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
