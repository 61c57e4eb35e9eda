/**
 * What only a real server's timing and storage show, run on each API server: Lease-based leader
 * election between two `meshcanary controller` processes, watches resumed after the API server
 * restarts (a real one loses its watch cache), and a second writer's VirtualService edit racing the
 * controller's read-modify-write (a real 409 on the stale resourceVersion, re-read, edit kept).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKubeConfig } from "../../controller/kube/client.js";
import { kubeVirtualServiceStore, type VirtualServiceStore } from "../../controller/kube/virtual-services.js";
import { applyMesh } from "../../controller/mesh/apply.js";
import type { MeshIntent } from "../../controller/mesh/types.js";
import {
  healthySpec,
  type Json,
  NS,
  startWorldOn,
  targetWeights,
  until,
  type World,
} from "../controller/harness.js";
import {
  type ControllerProcess,
  startControllerProcess,
  stopControllerProcess,
} from "../helpers/controller-process.js";
import { phaseOf } from "../reliability/helpers.js";
import { backendChoices, suiteTitle, type SuiteApi, type SuiteBackend } from "./backends.js";

const VS = `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices`;

for (const choice of backendChoices()) {
  const title = suiteTitle("resilience", choice);
  describe.skipIf(choice.skip !== undefined)(title, () => {
    let backend: SuiteBackend;
    let world: World<SuiteApi>;
    const procs: ControllerProcess[] = [];

    beforeAll(async () => {
      backend = await choice.start();
      world = await startWorldOn(backend, ["reviews", "ratings", "details"]);
    }, 120_000);
    afterAll(async () => {
      for (const p of procs) await stopControllerProcess(p, "SIGKILL");
      await world?.close();
    });

    it("elects one of two controller processes on the Lease and hands over when it stops", async () => {
      const lease = `/apis/coordination.k8s.io/v1/namespaces/${backend.leaseNamespace}/leases/meshcanary-controller`;
      const start = (identity: string) =>
        startControllerProcess(world.api.kubeconfig(), {
          identity,
          namespace: NS,
          leaseNamespace: backend.leaseNamespace,
        });
      const a = await start("a");
      procs.push(a);
      await until("a to lead", async () => a.leads());
      const b = await start("b");
      procs.push(b);
      await world.createCanary("ha", { ...healthySpec([10, 50]), analysis: { minStepDuration: "60s" } });
      await phaseOf(world, "ha", "Progressing", 0);
      expect((await world.req("GET", lease)).body.spec.holderIdentity).toBe("a");
      expect(b.leads()).toBe(false);

      await stopControllerProcess(a);
      await until("b to take over", async () => b.leads(), 15_000);
      const held = (await world.req("GET", lease)).body.spec;
      // a released the Lease on SIGTERM (holder cleared); b taking it counts as a transition, as in client-go.
      expect(held).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
      await world.annotate("ha", "promote-full/1");
      const done = await phaseOf(world, "ha", "Succeeded");
      expect((done.status.history as Json[]).map((h) => `${h.to}@${h.step}`)).toEqual([
        "Progressing@0",
        "Promoting@0",
        "Succeeded@0",
      ]);
      await stopControllerProcess(b);
    }, 60_000);

    it("resumes its watches after the API server restarts", async () => {
      const c = await world.controller();
      await world.createCanary("before", {
        ...healthySpec([10, 50]),
        host: "ratings",
        virtualService: { name: "ratings" },
        analysis: { minStepDuration: "60s" },
      });
      await phaseOf(world, "before", "Progressing", 0);
      await world.api.restart();
      // A change made after the restart reaches the controller only through a re-established watch.
      await world.annotate("before", "promote-full/1");
      await phaseOf(world, "before", "Succeeded");
      await world.createCanary("after", {
        ...healthySpec([10]),
        host: "details",
        virtualService: { name: "details" },
        analysis: { minStepDuration: "60s" },
      });
      await phaseOf(world, "after", "Progressing", 0);
      expect(targetWeights(await world.vs("details"))).toEqual({ v1: 90, v2: 10 });
      await c.close();
    }, 90_000);

    it("re-reads and re-plans when a second writer changes the VirtualService under it", async () => {
      const kc = loadKubeConfig({ kubeconfigText: world.api.kubeconfig() });
      if ("error" in kc) throw new Error(kc.error);
      const real = kubeVirtualServiceStore(kc, { attempts: 1, baseDelayMs: 10 });
      const conflicts: string[] = [];
      let raced = false;
      // The second writer edits right after the controller's first read: its write is then stale.
      const racing: VirtualServiceStore = {
        ...real,
        async get(namespace, name) {
          const read = await real.get(namespace, name);
          if (!raced && read.ok) {
            raced = true;
            const edited = structuredClone(read.value) as Json;
            edited.metadata.labels = { ...(edited.metadata.labels ?? {}), "second-writer": "yes" };
            const put = await world.req("PUT", `${VS}/${name}`, edited);
            expect(put.status, JSON.stringify(put.body)).toBe(200);
          }
          return read;
        },
        async replace(vs) {
          const written = await real.replace(vs);
          if (!written.ok) conflicts.push(written.error.reason);
          return written;
        },
      };
      const intent: MeshIntent = {
        canary: `${NS}/race`,
        host: "reviews",
        active: true,
        weights: [
          { variant: "stable", subset: "v1", weightBp: 7000 },
          { variant: "canary", subset: "v2", weightBp: 3000 },
        ],
      };
      const outcome = await applyMesh(racing, { namespace: NS, name: "reviews" }, intent);
      expect(outcome).toMatchObject({ written: true });
      expect(conflicts).toEqual(["Conflict"]);
      const vs = await world.vs("reviews");
      expect(vs.metadata.labels["second-writer"]).toBe("yes");
      expect((vs.spec.http as Json[]).some((r) => r.name?.startsWith("meshcanary-"))).toBe(true);
    });
  });
}
