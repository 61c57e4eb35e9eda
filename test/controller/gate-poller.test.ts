/** GatePoller: one call in flight per gate, answers kept until taken, Flagger's payload, cancelled by close(). */
import { describe, expect, it } from "vitest";
import { GatePoller } from "../../controller/app/gate-poller.js";
import type { CanaryObject } from "../../controller/kube/canaries.js";
import type { GateAnswer, GatePayload, GateTarget } from "../../controller/notify/gate-call.js";
import { planRollout } from "../../controller/rollout/plan.js";
import { stateFromStatus } from "../../controller/rollout/status.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import { spec as baseSpec, T0 } from "../rollout/sim.js";

const spec = withDefaults({
  ...baseSpec({ canary: { steps: [{ weight: 10 }] } }),
  gates: [
    { name: "smoke", type: "pre-rollout", url: "http://gate.example/smoke", metadata: { suite: "s" } },
    { name: "freeze", type: "confirm-promotion", url: "http://gate.example/freeze" },
  ],
} as CanarySpec);
const state = stateFromStatus(planRollout(spec), { revision: "r7" });
const canary = { metadata: { namespace: "shop", name: "cart" }, spec } as unknown as CanaryObject;

function controlledCaller() {
  const calls: Array<{ target: GateTarget; payload: GatePayload; signal: AbortSignal }> = [];
  const releases: Array<(a: GateAnswer) => void> = [];
  const call = (target: GateTarget, payload: GatePayload, signal: AbortSignal) =>
    new Promise<GateAnswer>((resolve) => {
      calls.push({ target, payload, signal });
      releases.push(resolve);
      signal.addEventListener("abort", () => resolve({ passed: false, message: "cancelled" }));
    });
  return { calls, releases, call };
}

describe("GatePoller", () => {
  it("calls each due gate once while a call is in flight and hands the answer to the next take", async () => {
    const { calls, releases, call } = controlledCaller();
    const poller = new GatePoller(call, () => T0 + 250);
    poller.poll(canary, spec, state, T0);
    poller.poll(canary, spec, state, T0 + 100);
    expect(calls.map((c) => c.target.name)).toEqual(["smoke"]);
    expect(calls[0]!.payload).toEqual({
      name: "cart",
      namespace: "shop",
      canary: "shop/cart",
      type: "pre-rollout",
      phase: "Initializing",
      revision: "r7",
      step: 0,
      canaryWeight: 0,
      metadata: { suite: "s" },
      at: new Date(T0).toISOString(),
    });
    expect(poller.take("shop/cart")).toBeUndefined();
    releases[0]!({ passed: false, message: "HTTP 503" });
    await new Promise((r) => setImmediate(r));
    expect(poller.take("shop/cart")).toEqual([
      { name: "smoke", type: "pre-rollout", passed: false, message: "HTTP 503", startedAt: T0, at: T0 + 250 },
    ]);
    expect(poller.take("shop/cart")).toBeUndefined();
    // No longer in flight: due again (the state has no answer recorded, so at once).
    poller.poll(canary, spec, state, T0 + 300);
    expect(calls).toHaveLength(2);
    await poller.close();
  });

  it("close() cancels the calls in flight and drops their answers", async () => {
    const { calls, call } = controlledCaller();
    const poller = new GatePoller(call);
    poller.poll(canary, spec, state, T0);
    await poller.close();
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(poller.take("shop/cart")).toBeUndefined();
    poller.poll(canary, spec, state, T0 + 1000);
    expect(calls).toHaveLength(1);
  });
});
