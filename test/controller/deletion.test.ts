/**
 * Deleting a Canary (spec.revertOnDeletion, default true): the controller's finalizer holds the
 * object until the VirtualService is left as the rollout's end would leave it: the original route
 * mid-rollout, the final subset after success. Against the embedded Kubernetes API, with a real
 * controller and, for the last case, none running at the moment of deletion.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REVERT_FINALIZER } from "../../controller/app/deletion.js";
import { startReporterSim } from "../../sandbox/reporter-sim.js";
import { healthySpec, type Json, NS, startWorld, targetWeights, until, type World } from "./harness.js";

const CANARIES = `/apis/meshcanary.io/v1alpha1/namespaces/${NS}/canaries`;
const HOSTS = ["reviews", "ratings", "details", "payments", "orders"];
let world: World;

beforeAll(async () => {
  world = await startWorld(HOSTS);
});
afterAll(async () => {
  await world.close();
});

const specFor = (host: string, extra: Record<string, unknown> = {}) => ({
  ...healthySpec([10, 50]),
  host,
  virtualService: { name: host },
  analysis: { minStepDuration: "60s" },
  ...extra,
});

const phase = (name: string, want: string) =>
  until(`${name} ${want}`, async () => {
    const c = await world.canary(name);
    return c.status?.phase === want ? c : undefined;
  });

const gone = (name: string, limitMs = 15_000) =>
  until(
    `${name} to be gone`,
    async () => (await world.req("GET", `${CANARIES}/${name}`)).status === 404,
    limitMs,
  );

/** The VirtualService as startWorld created it: one route to the stable subset, nothing of ours. */
function expectOriginal(vs: Json, host: string): void {
  expect(vs.spec.http).toEqual([{ name: "primary", route: [{ destination: { host, subset: "v1" } }] }]);
  expect(vs.metadata.annotations?.["meshcanary.io/state"]).toBeUndefined();
}

const reasons = async (name: string) => (await world.events(name)).map((e: Json) => e.reason as string);

describe("deleting a Canary", () => {
  it("mid-rollout restores the original route before the object goes", async () => {
    const c = await world.controller();
    await world.createCanary("mid", specFor("reviews"));
    const running = await phase("mid", "Progressing");
    await until("the finalizer", async () => (await world.canary("mid")).metadata.finalizers);
    expect((await world.canary("mid")).metadata.finalizers).toEqual([REVERT_FINALIZER]);
    expect(running.status.canaryWeight).toBe(10);
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v1: 90, v2: 10 });

    await world.req("DELETE", `${CANARIES}/mid`);
    await gone("mid");
    expectOriginal(await world.vs("reviews"), "reviews");
    expect(await reasons("mid")).toContain("RoutingRestored");
    expect(c.reconciler.get(`${NS}/mid`)).toBeUndefined();
    await c.close();
  });

  it("after success keeps the canary subset", async () => {
    const c = await world.controller();
    await world.createCanary("done", specFor("ratings"));
    await phase("done", "Progressing");
    await world.annotate("done", "promote-full/1");
    await phase("done", "Succeeded");
    await until("100% canary", async () => targetWeights(await world.vs("ratings")).v2 === 100);

    await world.req("DELETE", `${CANARIES}/done`);
    await gone("done");
    expect(targetWeights(await world.vs("ratings"))).toEqual({ v2: 100 });
    expect(await reasons("done")).toContain("RoutingKept");
    await c.close();
  });

  it("with revertOnDeletion: false carries no finalizer and leaves routing as it is", async () => {
    const c = await world.controller();
    await world.createCanary("plain", specFor("details", { revertOnDeletion: false }));
    await phase("plain", "Progressing");
    await until("the split", async () => targetWeights(await world.vs("details")).v2 === 10);
    expect((await world.canary("plain")).metadata.finalizers ?? []).toEqual([]);

    await c.close();
    // No controller needed: nothing holds the object.
    await world.req("DELETE", `${CANARIES}/plain`);
    await gone("plain", 2000);
    expect(targetWeights(await world.vs("details"))).toEqual({ v1: 90, v2: 10 });
  });

  it("waits for a controller when none runs, then restores", async () => {
    const first = await world.controller();
    await world.createCanary("orphan", specFor("payments"));
    await phase("orphan", "Progressing");
    await until("the finalizer", async () => (await world.canary("orphan")).metadata.finalizers);
    await until("the split", async () => targetWeights(await world.vs("payments")).v2 === 10);
    await first.close();

    await world.req("DELETE", `${CANARIES}/orphan`);
    await new Promise((r) => setTimeout(r, 1000));
    const held = await world.canary("orphan");
    expect(held.metadata.deletionTimestamp).toBeDefined();
    expect(targetWeights(await world.vs("payments"))).toEqual({ v1: 90, v2: 10 });

    const second = await world.controller();
    await gone("orphan");
    expectOriginal(await world.vs("payments"), "payments");
    await second.close();
  });

  it("goes only once every filter applied a table without it", async () => {
    // Otherwise a proxy still marks requests with the deleted Canary's variants after a new Canary
    // for the same host exists (test/mesh-e2e: 3 of a Canary's requests marked by its predecessor).
    const c = await world.controller();
    await world.createCanary("left", specFor("orders"));
    await phase("left", "Progressing");
    // A proxy that confirms a new table only with its next report, a second later.
    const filter = startReporterSim({
      address: `127.0.0.1:${c.telemetryPort}`,
      canary: `${NS}/left`,
      rps: 100,
      failureRate: { stable: 0, canary: 0 },
      intervalMs: 1000,
    });
    const routes = (d = filter.directives.at(-1)) => d?.routes.map((r) => r.canary) ?? [];
    try {
      await until("the filter on the canary's route", async () => routes().includes(`${NS}/left`));
      await until("the filter known", async () => c.telemetry.routingVersions().size === 1);

      await world.req("DELETE", `${CANARIES}/left`);
      // Polled as fast as the API answers: the first 404 must find the proxy confirmed off the route.
      while ((await world.req("GET", `${CANARIES}/left`)).status !== 404);
      const without = filter.directives.find((d) => !routes(d).includes(`${NS}/left`));
      expect(without, "a table without the canary").toBeDefined();
      expect([...c.telemetry.routingVersions().values()][0]).toBeGreaterThanOrEqual(Number(without!.version));
    } finally {
      filter.close();
      await c.close();
    }
  });
});
