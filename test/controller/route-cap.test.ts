// The controller caps the published routing table at the filters' limit itself (lowered to one
// route here): a Canary that does not fit gets no route, waits in Initializing with a
// VirtualServiceReady=False condition saying why, and takes the place once the routed one is deleted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReporterSim } from "../../sandbox/reporter-sim.js";
import { healthyReporter, healthySpec, type Json, NS, startWorld, until, type World } from "./harness.js";

let world: World;
let sim: ReporterSim;

beforeAll(async () => {
  world = await startWorld(["reviews", "ratings"]);
  const c = await world.controller({ maxRoutes: 1 });
  sim = healthyReporter(c.telemetryPort, "first");
});
afterAll(async () => {
  sim.close();
  await world.close();
});

const routed = () => (sim.directives.at(-1)?.routes ?? []).map((r) => r.canary);
const specFor = (host: string) => ({ ...healthySpec([10, 50, 90]), host, virtualService: { name: host } });

describe("routing table cap", () => {
  it("leaves the Canary that does not fit out, says why on it, and routes it once a place frees", async () => {
    await world.createCanary("first", specFor("reviews"));
    await until(
      "first progressing",
      async () => (await world.canary("first")).status?.phase === "Progressing",
    );
    await world.createCanary("second", specFor("ratings"));
    const condition = await until("second's VirtualServiceReady=False", async () => {
      const c = await world.canary("second");
      return c.status?.conditions?.find(
        (x: Json) => x.type === "VirtualServiceReady" && x.status === "False",
      );
    });
    expect(condition.message).toContain("a route in the filters' routing table: it holds at most 1 routes");
    const second = await world.canary("second");
    expect(second.status?.phase).toBe("Initializing");
    expect(second.status?.message).toContain(
      "waiting for the mesh: missing a route in the filters' routing table",
    );
    // Later Directives still hold the first Canary only: the newcomer never takes a running rollout's place.
    const version = sim.directives.at(-1)?.version ?? 0n;
    await until("another Directive", async () => (sim.directives.at(-1)?.version ?? 0n) > version);
    expect(routed()).toEqual([`${NS}/first`]);
    expect((await world.canary("first")).status?.phase).toBe("Progressing");

    const del = await world.req("DELETE", `/apis/meshcanary.io/v1alpha1/namespaces/${NS}/canaries/first`);
    expect(del.status).toBeLessThan(300);
    await until("second routed", async () => routed().join() === `${NS}/second`, 20_000);
    await until(
      "second starts",
      async () => (await world.canary("second")).status?.phase === "Progressing",
      20_000,
    );
  }, 60_000);
});
