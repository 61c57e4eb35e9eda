/**
 * The I/O edge of gating webhooks: starts the calls the rollout state says are due (gatesDue), at
 * most one in flight per gate, and keeps the answers until the next tick takes them as observations.
 * Calls run in the background, so a slow gate never stalls the reconcile loop; close() cancels them.
 */
import type { CanaryObject } from "../kube/canaries.js";
import type { GateAnswer, GatePayload, GateTarget } from "../notify/gate-call.js";
import { type GateResult, gatesDue } from "../rollout/gates.js";
import { rfc3339 } from "../rollout/status.js";
import type { RolloutState } from "../rollout/types.js";
import type { SpecWithDefaults } from "../spec/defaults.js";
import { idOf } from "./runner.js";

/** Performs one call (callGate in production). */
export type GateCaller = (
  target: GateTarget,
  payload: GatePayload,
  signal: AbortSignal,
) => Promise<GateAnswer>;

/** Calls in flight across all canaries at most; due calls beyond it wait for a later tick. */
const MAX_IN_FLIGHT = 64;

export class GatePoller {
  private readonly inFlight = new Set<string>();
  private readonly answers = new Map<string, GateResult[]>();
  private readonly running = new Set<Promise<void>>();
  private readonly stop = new AbortController();

  constructor(
    private readonly call: GateCaller,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The answers that arrived for a canary since the last take. */
  take(canaryId: string): GateResult[] | undefined {
    const got = this.answers.get(canaryId);
    this.answers.delete(canaryId);
    return got;
  }

  /** Starts the calls due for a canary in this state (none when its gates are closed). */
  poll(canary: CanaryObject, spec: SpecWithDefaults, state: RolloutState, now: number): void {
    const id = idOf(canary);
    for (const gate of gatesDue(state, now)) {
      const key = `${id}\n${gate.type}\n${gate.name}`;
      const target = spec.gates?.find((g) => g.name === gate.name && g.type === gate.type);
      if (
        !target ||
        this.inFlight.has(key) ||
        this.inFlight.size >= MAX_IN_FLIGHT ||
        this.stop.signal.aborted
      )
        continue;
      this.inFlight.add(key);
      const payload: GatePayload = {
        name: canary.metadata.name,
        namespace: canary.metadata.namespace,
        canary: id,
        type: gate.type,
        phase: state.phase,
        ...(state.revision !== undefined ? { revision: state.revision } : {}),
        step: state.step,
        canaryWeight: state.weightBp / 100,
        metadata: (target.metadata ?? {}) as Record<string, string>,
        at: rfc3339(now),
      };
      const p = this.run(id, key, target as GateTarget, payload, now).finally(() => this.running.delete(p));
      this.running.add(p);
    }
  }

  /** Cancels the calls in flight (their answers are dropped) and waits for them to end. */
  async close(): Promise<void> {
    this.stop.abort();
    await Promise.allSettled([...this.running]);
  }

  private async run(id: string, key: string, target: GateTarget, payload: GatePayload, startedAt: number) {
    try {
      const answer = await this.call(target, payload, this.stop.signal);
      if (this.stop.signal.aborted) return;
      const result = { name: target.name, type: target.type, ...answer, startedAt, at: this.clock() };
      this.answers.set(id, [...(this.answers.get(id) ?? []), result]);
    } finally {
      this.inFlight.delete(key);
    }
  }
}
