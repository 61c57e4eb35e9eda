/**
 * Kubernetes API faults on VirtualService writes during a rollout (embedded API's FaultInjector):
 * 409 conflicts while a concurrent writer edits another route of the same VirtualService, 500s that
 * outlast the retries, and writes that hang past the per-attempt deadline. Nothing is lost: the
 * writer's edits survive, the failure is named in a status condition, and the rollout resumes when
 * the API recovers, entering every step once.
 */
import { describe, expect, it } from "vitest";
import { healthySpec, type Json, NS, targetWeights, until } from "../controller/harness.js";
import { expectEachStepOnce, phaseOf } from "./helpers.js";
import { kubeFaultSuite } from "./kube-fault-suite.js";

const VS_PATH = `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices`;
const suite = kubeFaultSuite(["reviews", "ratings", "details"]);

const spec = (host: string) =>
  healthySpec([10, 50], {
    host,
    virtualService: { name: host },
    analysis: { minStepDuration: "2s", minRequests: 50 },
  });

describe("VirtualService write faults", () => {
  it("409s while another writer edits a different route: its edits survive, the rollout progresses", async () => {
    const { world } = suite;
    const vs = await world.vs("reviews");
    vs.spec.http.unshift({
      name: "admin",
      match: [{ uri: { prefix: "/admin" } }],
      route: [{ destination: { host: "admin" } }],
      timeout: "0s",
    });
    expect((await world.req("PUT", `${VS_PATH}/reviews`, vs)).status).toBe(200);

    // The concurrent writer: read-modify-write of its own route, retrying its own conflicts.
    let lastWritten = 0;
    let writerConflicts = 0;
    let stop = false;
    const writer = (async () => {
      for (let n = 1; !stop; n++) {
        const current = (await world.req("GET", `${VS_PATH}/reviews`)).body;
        const admin = (current.spec.http as Json[]).find((r) => r.name === "admin");
        admin.timeout = `${n}s`;
        const put = await world.req("PUT", `${VS_PATH}/reviews`, current);
        if (put.status === 200) lastWritten = n;
        else if (put.status === 409) writerConflicts++;
        else throw new Error(`writer got ${put.status}`);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();

    await world.createCanary("conflicted", spec("reviews"));
    suite.reporter("conflicted");
    await phaseOf(world, "conflicted", "Progressing", 0);
    // Injected conflicts on top of the real ones, for whoever writes next.
    world.api.faults.failNext({ method: "PUT", path: /\/virtualservices\/reviews$/, status: 409, times: 6 });
    const done = await phaseOf(world, "conflicted", "Succeeded", undefined, 25_000);
    stop = true;
    await writer;

    await expectEachStepOnce(world, "conflicted", done, 2);
    const final = await world.vs("reviews");
    expect(targetWeights(final)).toEqual({ v2: 100 });
    const admin = (final.spec.http as Json[]).find((r) => r.name === "admin");
    expect(lastWritten).toBeGreaterThan(10);
    expect(admin.timeout).toBe(`${lastWritten}s`);
    expect(admin.match).toEqual([{ uri: { prefix: "/admin" } }]);
    expect(writerConflicts).toBeGreaterThan(0);
  }, 30_000);

  it("500s beyond the retries: the condition names the failure, the step waits, then resumes once", async () => {
    const { world } = suite;
    await world.createCanary("failing", spec("ratings"));
    suite.reporter("failing");
    await phaseOf(world, "failing", "Progressing", 0);
    world.api.faults.failNext({
      method: "PUT",
      path: /\/virtualservices\/ratings$/,
      status: 500,
      times: 1000,
    });
    const blocked = await until("a VirtualServiceReady=False condition naming the fault", async () => {
      const c = await world.canary("failing");
      const mesh = (c.status?.conditions as Json[] | undefined)?.find(
        (x) => x.type === "VirtualServiceReady",
      );
      return mesh?.status === "False" && /injected fault: 500/.test(mesh.message) ? c : undefined;
    });
    // The weight change could not be written, so the step clock has not started at the new weight.
    expect(targetWeights(await world.vs("ratings"))).toEqual({ v1: 90, v2: 10 });
    expect(blocked.status.phase).toBe("Progressing");
    world.api.faults.clear();
    const done = await phaseOf(world, "failing", "Succeeded", undefined, 25_000);
    await expectEachStepOnce(world, "failing", done, 2);
    const mesh = (done.status.conditions as Json[]).find((x) => x.type === "VirtualServiceReady");
    expect(mesh?.status).toBe("True");
    expect(targetWeights(await world.vs("ratings"))).toEqual({ v2: 100 });
  }, 30_000);

  it("a write that hangs is abandoned at the per-attempt deadline and retried; the loop never stalls", async () => {
    const { world } = suite;
    await world.createCanary("hanging", spec("details"));
    suite.reporter("hanging");
    await phaseOf(world, "hanging", "Progressing", 0);
    // Held 30 s at the API against a 1 s deadline: without the deadline the one reconcile loop (every
    // canary's) would wait out the hold and the rollout could not finish within the bound below.
    world.api.faults.delayNext({ method: "PUT", path: /\/virtualservices\/details$/, delayMs: 30_000 });
    const done = await phaseOf(world, "hanging", "Succeeded", undefined, 15_000);
    expect(world.api.faults.pending()).toBe(0);
    await expectEachStepOnce(world, "hanging", done, 2);
    expect(targetWeights(await world.vs("details"))).toEqual({ v2: 100 });
  }, 30_000);
});
