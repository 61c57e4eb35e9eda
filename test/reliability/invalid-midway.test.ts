/**
 * A Canary edited into an invalid spec mid-rollout: the controller keeps the last good routing (the
 * VirtualService is not touched, the filters keep their weights), reports every error with its field
 * path in status, and carries on from the same step once the spec is fixed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningController } from "../../controller/app/controller.js";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import {
  healthySpec,
  type Json,
  NS,
  startWorld,
  targetWeights,
  until,
  type World,
} from "../controller/harness.js";
import { phaseOf, startControllerIn } from "./helpers.js";

const CANARIES = `/apis/meshcanary.io/v1alpha1/namespaces/${NS}/canaries`;
let world: World;
let controller: RunningController;
let reporter: ReporterSim | undefined;

beforeAll(async () => {
  world = await startWorld(["reviews"]);
  controller = await startControllerIn(world);
});
afterAll(async () => {
  reporter?.close();
  await controller.close();
  await world.close();
});

async function patchSpec(patch: unknown): Promise<void> {
  const r = await world.req("PATCH", `${CANARIES}/midway`, { spec: patch }, "application/merge-patch+json");
  expect(r.status).toBe(200);
}

const ready = (c: Json) => (c.status?.conditions as Json[] | undefined)?.find((x) => x.type === "Ready");

describe("a Canary that becomes invalid mid-rollout", () => {
  it("keeps the last good routing, reports the errors in status, and resumes when fixed", async () => {
    const spec = healthySpec([10, 50]);
    await world.createCanary("midway", { ...spec, analysis: { minStepDuration: "60s" } });
    reporter = startReporterSim({
      address: `127.0.0.1:${controller.telemetryPort}`,
      canary: `${NS}/midway`,
      rps: 1000,
      failureRate: { stable: 0, canary: 0 },
    });
    await phaseOf(world, "midway", "Progressing", 0);
    await until("the reporter to get the step's weight", async () => reporter!.canaryWeightBp() === 1000);
    const vsBefore = await world.vs("reviews");
    expect(targetWeights(vsBefore)).toEqual({ v1: 90, v2: 10 });
    const directivesBefore = reporter.directives.length;

    // A schema error is refused by the API server itself (as a real one does); only what the CRD's
    // schema cannot express reaches the controller.
    const refused = await world.req(
      "PATCH",
      `${CANARIES}/midway`,
      { spec: { strategy: { canary: { steps: [{ weight: 150 }] } } } },
      "application/merge-patch+json",
    );
    expect(refused.status).toBe(422);
    await patchSpec({ sticky: {}, analysis: { maxStepDuration: "1s" } });
    const invalid = await until("an InvalidSpec Ready condition", async () => {
      const c = await world.canary("midway");
      return ready(c)?.reason === "InvalidSpec" ? c : undefined;
    });
    expect(ready(invalid).message).toContain("spec.sticky");
    expect(ready(invalid).message).toContain("spec.analysis.maxStepDuration");
    expect(invalid.status.phase).toBe("Progressing");
    expect(invalid.status.step).toBe(0);
    // A few ticks later nothing about the routing has moved.
    await new Promise((r) => setTimeout(r, 1000));
    const vsAfter = await world.vs("reviews");
    expect(vsAfter.metadata.resourceVersion).toBe(vsBefore.metadata.resourceVersion);
    expect(reporter.directives.length).toBe(directivesBefore);
    expect(reporter.canaryWeightBp()).toBe(1000);
    expect((await world.events("midway")).map((e) => e.reason)).toContain("InvalidSpec");

    // No traffic from here on, so nothing else changes status: only the fix itself can clear the condition.
    reporter.close();
    await new Promise((r) => setTimeout(r, 1500));
    await patchSpec({ sticky: null, analysis: { maxStepDuration: null } });
    const fixed = await until("the InvalidSpec condition to clear", async () => {
      const c = await world.canary("midway");
      return ready(c)?.reason !== "InvalidSpec" ? c : undefined;
    });
    expect(fixed.status.step).toBe(0);
    await world.annotate("midway", "promote-full/1");
    const done = await phaseOf(world, "midway", "Succeeded");
    expect(ready(done).status).toBe("True");
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v2: 100 });
  }, 30_000);
});
