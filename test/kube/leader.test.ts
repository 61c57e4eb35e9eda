import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeConfig, loadKubeConfig } from "../../controller/kube/client.js";
import { type LeaderElector, startLeaderElection } from "../../controller/kube/leader.js";
import { FaultRelay } from "../../sandbox/fault-relay.js";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { renderKubeconfig } from "../../sandbox/kube-api/kubeconfig.js";
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

function candidate(
  name: string,
  identity: string,
  log: string[],
  config: KubeConfig = kc,
  /** null: the elector's default. */
  retryPeriodMs: number | null = 100,
): LeaderElector {
  return startLeaderElection(config, {
    namespace: "default",
    name,
    identity,
    leaseDurationSeconds: 1,
    ...(retryPeriodMs !== null ? { retryPeriodMs } : {}),
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
    expect(lease.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
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

  // null: the default retry period, derived from the 1-s lease so renewals come well within it;
  // 300 ms: rounds that end long after the renew deadline when a call hangs.
  it.each([
    ["default", null],
    ["300 ms", 300],
  ])(
    "never has two leaders (retry %s): one whose API calls hang steps down before the lease can pass",
    async (label, retry) => {
      // a reaches the API through a relay that we then stall (a partition that hangs, not refuses).
      const relay = new FaultRelay(Number(new URL(server.url).port));
      await relay.start();
      const viaRelay = loadKubeConfig({
        kubeconfigText: renderKubeconfig(`http://127.0.0.1:${relay.port}`, server.token),
      });
      if ("error" in viaRelay) throw new Error(viaRelay.error);
      const log: string[] = [];
      const lease = `partition-${label.replace(/\W/g, "")}`;
      const a = candidate(lease, "a", log, viaRelay, retry);
      await until("a leads", () => a.isLeader());
      const b = candidate(lease, "b", log);
      const both: number[] = [];
      const sampler = setInterval(() => {
        if (a.isLeader() && b.isLeader()) both.push(Date.now());
      }, 5);
      // While a renews on time, b must not take over (a retry period longer than the lease would let it).
      await new Promise((r) => setTimeout(r, 1500));
      expect(b.isLeader()).toBe(false);
      relay.set({ kind: "delay", ms: 60_000 });
      await until("b leads", () => b.isLeader(), 5000);
      await new Promise((r) => setTimeout(r, 200));
      clearInterval(sampler);
      expect(a.isLeader()).toBe(false);
      expect(both).toEqual([]);
      expect(log.slice(0, 3)).toEqual(["a started", "a stopped", "b started"]);
      await b.stop();
      relay.set({ kind: "cut" });
      await a.stop();
      await relay.close();
    },
    15_000,
  );
});
