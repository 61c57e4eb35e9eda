// A second Canary for a host that already has one gets Ready=False/Conflict and no routing: the
// published table keeps exactly one route for the host (a filter refuses a table with two), the
// first Canary's rollout goes on, and once the first is deleted the second takes the host over.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReporterSim } from "../../sandbox/reporter-sim.js";
import { healthyReporter, healthySpec, type Json, NS, startWorld, until, type World } from "./harness.js";

let world: World;
let sim: ReporterSim;

beforeAll(async () => {
  world = await startWorld(["reviews"]);
  const c = await world.controller();
  sim = healthyReporter(c.telemetryPort, "first");
});
afterAll(async () => {
  sim.close();
  await world.close();
});

const routesFor = (host: string) => (sim.directives.at(-1)?.routes ?? []).filter((r) => r.host === host);

describe("host conflicts", () => {
  it("the second Canary for a host gets Conflict and no route; it takes over once the first is gone", async () => {
    await world.createCanary("first", healthySpec([10, 50, 90]));
    await until(
      "first progressing",
      async () => (await world.canary("first")).status?.phase === "Progressing",
    );
    await world.createCanary("second", healthySpec([20]));
    const second = await until("Conflict condition", async () => {
      const c = await world.canary("second");
      return c.status?.conditions?.find((x: Json) => x.reason === "Conflict");
    });
    expect(second).toMatchObject({ type: "Ready", status: "False" });
    expect(second.message).toContain("spec.host: reviews is already split by Canary default/first");
    // The Event is posted after the status write that carries the condition: wait for it too.
    await until("Conflict Event", async () =>
      (await world.events("second")).some((e: Json) => e.reason === "Conflict"),
    );
    // Several Directives later, still exactly one route for reviews, and it is the first Canary's.
    const version = sim.directives.at(-1)?.version ?? 0n;
    await until("another Directive", async () => (sim.directives.at(-1)?.version ?? 0n) > version);
    expect(routesFor("reviews").map((r) => r.canary)).toEqual([`${NS}/first`]);
    expect((await world.canary("second")).status?.phase).toBeUndefined();

    const del = await world.req("DELETE", `/apis/meshcanary.io/v1alpha1/namespaces/${NS}/canaries/first`);
    expect(del.status).toBeLessThan(300);
    await until(
      "second takes the host",
      async () =>
        routesFor("reviews")
          .map((r) => r.canary)
          .join() === `${NS}/second`,
      20_000,
    );
  }, 40_000);
});
