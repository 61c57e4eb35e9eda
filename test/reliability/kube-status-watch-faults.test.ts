/**
 * Kubernetes API faults on Canary status writes and on the Canary watch: 500s on the status
 * subresource (a Warning Event names the failure, the rollout keeps going, status catches up with
 * every step once), and watch expiry (410 Gone: the informer relists and commands still arrive).
 */
import { describe, expect, it } from "vitest";
import { eventsInclude, healthySpec, targetWeights, until } from "../controller/harness.js";
import { expectEachStepOnce, phaseOf } from "./helpers.js";
import { kubeFaultSuite } from "./kube-fault-suite.js";

const suite = kubeFaultSuite(["reviews", "ratings"]);

describe("status and watch faults", () => {
  it("status writes failing with 500: a Warning Event says so, the rollout goes on, status catches up", async () => {
    const { world } = suite;
    await world.createCanary(
      "statusful",
      healthySpec([10, 50], { analysis: { minStepDuration: "2s", minRequests: 50 } }),
    );
    const reporter = suite.reporter("statusful");
    await phaseOf(world, "statusful", "Progressing", 0);
    world.api.faults.failNext({
      method: "PATCH",
      path: /\/canaries\/statusful\/status$/,
      status: 500,
      times: 100_000,
    });
    const warned = await until("a StatusWriteFailed Event", async () =>
      (await world.events("statusful")).find((e) => e.reason === "StatusWriteFailed"),
    );
    expect(warned.type).toBe("Warning");
    expect(warned.message).toContain("injected fault: 500");
    // The rollout itself does not wait for its status: the next step's weight reaches the filters.
    await until("step 1 weights to reach the reporter", async () => reporter.canaryWeightBp() >= 5000);
    expect((await world.canary("statusful")).status.step).toBe(0);
    world.api.faults.clear();
    const done = await phaseOf(world, "statusful", "Succeeded");
    await expectEachStepOnce(world, "statusful", done, 2);
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v2: 100 });
  }, 30_000);

  it("watch expiry (410 Gone): the informer relists and the controller keeps acting on changes", async () => {
    const { world } = suite;
    const spec = healthySpec([10, 50], { host: "ratings", virtualService: { name: "ratings" } });
    await world.createCanary("watched", { ...spec, analysis: { minStepDuration: "60s" } });
    await phaseOf(world, "watched", "Progressing", 0);
    const commands: Array<[string, string]> = [
      ["pause/1", "Paused"],
      ["resume/2", "Progressing"],
      ["promote-full/3", "Succeeded"],
    ];
    for (const [command, phase] of commands) {
      world.api.faults.expireWatches();
      await world.annotate("watched", command);
      const c = await phaseOf(world, "watched", phase);
      expect(c.status.lastCommand).toBe(command);
    }
    expect(targetWeights(await world.vs("ratings"))).toEqual({ v2: 100 });
    await eventsInclude(world, "watched", ["Succeeded"]);
    const reasons = (await world.events("watched")).map((e) => `${e.reason}x${e.count ?? 1}`);
    expect(reasons).toEqual(expect.arrayContaining(["Pausedx1", "Promotingx1", "Succeededx1"]));
  }, 30_000);
});
