import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeConfig, loadKubeConfig } from "../../controller/kube/client.js";
import { type LeaderElector, startLeaderElection } from "../../controller/kube/leader.js";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { mustRequest, until } from "./helpers.js";

let server: KubeApiServer;
let kc: KubeConfig;

beforeAll(async () => {
  server = await startKubeApi({ port: 0 });
  const loaded = loadKubeConfig({ kubeconfigText: server.kubeconfig() });
  if ("error" in loaded) throw new Error(loaded.error);
  kc = loaded;
});

afterAll(async () => {
  await server?.close();
});

function candidate(name: string, identity: string, log: string[]): LeaderElector {
  return startLeaderElection(kc, {
    namespace: "default",
    name,
    identity,
    leaseDurationSeconds: 1,
    retryPeriodMs: 100,
    onStartedLeading: () => log.push(`${identity} started`),
    onStoppedLeading: () => log.push(`${identity} stopped`),
  });
}

describe("leader election on a Lease", () => {
  it("elects exactly one; the other takes over after the leader releases on stop", async () => {
    const log: string[] = [];
    const a = candidate("release", "a", log);
    await until("a leads", () => a.isLeader());
    const b = candidate("release", "b", log);
    // b campaigns a few rounds while a renews; it must not win any of them.
    await until(
      "b has campaigned",
      () =>
        (server.requestCounts.get("GET /apis/coordination.k8s.io/v1/namespaces/default/leases/release") ??
          0) >= 6,
    );
    expect(b.isLeader()).toBe(false);
    await a.stop();
    await until("b leads", () => b.isLeader());
    expect(log).toEqual(["a started", "a stopped", "b started"]);
    const lease = await mustRequest(
      server,
      "GET",
      "/apis/coordination.k8s.io/v1/namespaces/default/leases/release",
    );
    expect(lease.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 0 });
    await b.stop();
  });

  it("takes over a lease whose holder stopped renewing, after the lease duration", async () => {
    // A holder that vanished without releasing: a lease renewed once, long ago, by "ghost".
    await mustRequest(server, "POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "expire", namespace: "default" },
      spec: {
        holderIdentity: "ghost",
        leaseDurationSeconds: 1,
        renewTime: "2020-01-01T00:00:00.000000Z",
        leaseTransitions: 3,
      },
    });
    const log: string[] = [];
    const started = Date.now();
    const c = candidate("expire", "c", log);
    await until("c leads", () => c.isLeader());
    // c must have watched the unchanged record for a full lease duration before taking it.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const lease = await mustRequest(
      server,
      "GET",
      "/apis/coordination.k8s.io/v1/namespaces/default/leases/expire",
    );
    expect(lease.spec).toMatchObject({ holderIdentity: "c", leaseTransitions: 4 });
    expect(String((lease.spec as { renewTime: string }).renewTime)).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
    );
    await c.stop();
    expect(log).toEqual(["c started", "c stopped"]);
  });
});
