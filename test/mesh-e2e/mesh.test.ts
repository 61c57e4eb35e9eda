/**
 * The mesh-shaped end-to-end suite (issue 13): real Envoy proxies for callers in three namespaces
 * and the ingress gateway, services running Canaries one after another (MESH_E2E_CANARIES in all;
 * `make test-mesh-e2e`, part of `make test`, runs 100), a third of them faulty, one service whose
 * upstream sends hostile metric headers all along, a conflicting Canary, the leading controller
 * SIGKILLed while status writes fail with the mesh ahead of status, the standby's leadership taken
 * away and regained every 10 s, and a flood of adversarial reports. It asserts: every marked request the upstreams served counted exactly once by the
 * controller that saw the Canary's whole life (never more by the one that took over mid-way),
 * every faulty Canary rolled back and every healthy one promoted, weights never backwards outside
 * a rollback, no routes for the conflicting Canary, and the controller's heap under its cap.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findEnvoy } from "../../sandbox/envoy/binary.js";
import { type Json, NS, until } from "../controller/harness.js";
import { startFlood } from "./hostile-reports.js";
import { type CanaryKind, type CanaryRun, canarySpec, deleteCanary, type Lane, runCanary } from "./lanes.js";
import { type MeshWorld, ROOT, startMeshWorld } from "./mesh-world.js";
import { backwardsMove, subsetPercent, type WeightWatch, watchWeights } from "./weight-watch.js";

/**
 * Runs alone, in its own make target (`make test-mesh-e2e`, which `make test` runs after the main
 * vitest run): under the parallel main run the 2-core machine would starve both. MESH_E2E=1 enables it.
 */
const ENABLED = process.env.MESH_E2E === "1";
const CANARIES = Number(process.env.MESH_E2E_CANARIES ?? 16);
const LANES = Math.min(8, CANARIES);
/** The controller Deployment's heap cap (istio/controller: --max-old-space-size=320). */
const HEAP_CAP = 320 * 1024 * 1024;
const ENVOY = findEnvoy(ROOT);
const kind = ENVOY.ok ? "envoy" : "sandbox";
if (!ENABLED) console.warn("SKIPPED mesh-shaped end to end: set MESH_E2E=1 (make test-mesh-e2e)");
else if (!ENVOY.ok) {
  if (process.env.CI) throw new Error(`mesh e2e needs Envoy in CI: ${ENVOY.error}`);
  console.warn(`mesh e2e runs on the TypeScript sidecar, not Envoy: ${ENVOY.error}`);
}

let world: MeshWorld;
let watch: WeightWatch;
const lanes: Lane[] = [];

beforeAll(async () => {
  if (!ENABLED) return;
  // One service more than lanes: the conflicting Canary's.
  world = await startMeshWorld(kind, LANES + 1);
  for (const service of world.services) lanes.push({ service, current: "v1" });
  watch = watchWeights(world.routing, lanes);
  // One upstream answers with hostile metric values throughout, whichever version serves.
  for (const v of ["v1", "v2"])
    world.upstreams.behave(world.fqdn(lanes[0]!.service), v, { hostileMetric: true });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

/**
 * The heap still in use after a full collection: heapUsed alone also counts garbage not yet
 * collected, which with 4 reports a second from 4 proxies swung from 136 to 341 MiB between runs.
 */
function liveHeapBytes(): number {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  return process.memoryUsage().heapUsed;
}

/** The i-th Canary: every third faulty (lane 0, the hostile-metrics service, gets both kinds). */
const kindOf = (i: number): CanaryKind => (i % 3 === 0 ? "faulty" : "healthy");
const nameOf = (i: number) => `c-${String(i).padStart(3, "0")}`;

/** The controller in charge: the standby once it leads; before that the first one, unobservable here. */
const counter = () => ({ reader: world.standby.telemetry, leading: world.standby.isLeader() });

async function runLane(k: number): Promise<CanaryRun[]> {
  const runs: CanaryRun[] = [];
  for (let i = k; i < CANARIES; i += LANES)
    runs.push(await runCanary(world, lanes[k]!, nameOf(i), kindOf(i), counter));
  return runs;
}

/** The lane's Canary is Progressing with a VirtualService weight above the weight its status shows. */
async function meshAheadOfStatus(lane: Lane): Promise<boolean> {
  if (!lane.active) return false;
  const c = await world.kube.canary(lane.active.name);
  const inMesh = subsetPercent((await world.kube.vs(lane.service)).spec.http, lane.active.canarySubset);
  return c.status?.phase === "Progressing" && inMesh > (c.status.weightBp ?? 0) / 100;
}

/** Phase, step and message of every lane's Canary, for a timeout's message. */
async function describeCanaries(): Promise<string> {
  const out: string[] = [];
  for (const lane of lanes) {
    if (!lane.active) continue;
    const c = await world.kube.canary(lane.active.name).catch(() => undefined);
    out.push(`${lane.active.name}: ${c?.status?.phase} step ${c?.status?.step} (${c?.status?.message})`);
  }
  return out.join("; ");
}

/** The leader is SIGKILLed while status writes fail and some Canary's mesh is ahead of its status. */
async function killDuringFailingStatusWrites(): Promise<string> {
  // Status writes of one healthy rollout start failing once its status shows it under way (with its
  // revision); failing them all would stall the leader's loop on retries rather than let routing run ahead.
  const victim = await until(
    "a rollout under way in status",
    async () => {
      for (const lane of lanes.filter((l) => l.active?.kind === "healthy")) {
        const c = await world.kube.canary(lane.active!.name).catch(() => undefined);
        if (c?.status?.phase === "Progressing") return { lane, name: lane.active!.name };
      }
      return undefined;
    },
    60_000,
  );
  world.kube.api.faults.failNext({
    method: "PATCH",
    path: new RegExp(`/canaries/${victim.name}/status$`),
    status: 500,
    times: 1e9,
  });
  const ahead = await until(
    `${victim.name}'s mesh to be ahead of its status`,
    async () => (await meshAheadOfStatus(victim.lane)) && victim.name,
    // Each pass retries the failing status write: on a loaded machine the leader's loop crawls.
    120_000,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}; Canaries: ${await describeCanaries()}`);
  });
  world.first.proc.kill("SIGKILL");
  await new Promise((r) => world.first.proc.once("exit", r));
  world.relay.retarget(world.standby.telemetryPort);
  world.kube.api.faults.clear();
  await until("the standby to lead", async () => world.standby.isLeader(), 15_000);
  return ahead;
}

/**
 * A second Canary for a service that already has one (held at its first step awaiting approval):
 * Conflict and no routes (the weight watch flags any), while the owner keeps its routes; then both go.
 */
async function conflictingCanary(): Promise<Json> {
  const owned = lanes.at(-1)!;
  const spec = canarySpec(world, owned.service, "v1", "v2");
  owned.active = { name: "owner", canarySubset: "v2", kind: "healthy" };
  await world.kube.createCanary("owner", {
    ...spec,
    strategy: { canary: { steps: [{ weight: 10, approval: true }] } },
  });
  await until(
    "the owner to await approval",
    async () => (await world.kube.canary("owner")).status?.phase === "Paused",
    60_000,
  );
  await world.kube.createCanary("conflict", spec);
  const ready = await until(
    "the Conflict condition",
    async () => {
      const c = await world.kube.canary("conflict");
      return (c.status?.conditions as Json[] | undefined)?.find(
        (x) => x.type === "Ready" && x.reason === "Conflict",
      );
    },
    60_000,
  );
  expect(subsetPercent((await world.kube.vs(owned.service)).spec.http, "v2")).toBe(10);
  await deleteCanary(world, "conflict");
  await deleteCanary(world, "owner");
  owned.active = undefined;
  return ready;
}

/**
 * Takes the standby's leadership away every `everyMs`: another holder writes the Lease with a 1-s
 * duration, the standby steps down at its next renewal and takes the Lease back once that second
 * passed unrenewed. Each time it restores every rollout from status and republishes the table, often
 * while a pass is still running (issue 13's counter_backwards defect). Returns how many it took.
 */
function flapLeadership(everyMs: number): { stop(): Promise<number> } {
  const path = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/meshcanary-controller`;
  let taken = 0;
  let running: Promise<void> = Promise.resolve();
  const take = async () => {
    const lease = await world.kube.req("GET", path);
    if (lease.status !== 200 || lease.body.spec?.holderIdentity !== "standby") return;
    const spec = { ...lease.body.spec, holderIdentity: "intruder", leaseDurationSeconds: 1 };
    spec.renewTime = new Date().toISOString().replace("Z", "000Z");
    if ((await world.kube.req("PUT", path, { ...lease.body, spec })).status === 200) taken++;
  };
  const timer = setInterval(() => {
    running = running.then(take).catch(() => undefined);
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      return taken;
    },
  };
}

/** Adversarial reports straight at the leader for a while; the streams carrying entries must stay open. */
async function flood(ms: number) {
  const live = () => lanes.flatMap((l) => (l.active ? [`${NS}/${l.active.name}`] : []));
  const f = startFlood(`127.0.0.1:${world.standby.telemetryPort}`, live);
  await new Promise((r) => setTimeout(r, ms));
  const stats = f.stats();
  f.stop();
  return stats;
}

describe.skipIf(!ENABLED)(`mesh-shaped end to end [${kind}]`, () => {
  it(`${CANARIES} Canaries across ${LANES} services, 4 proxies, a controller kill, a conflict and a report flood`, async () => {
    const started = Date.now();
    const running = Promise.all(lanes.slice(0, LANES).map((_, k) => runLane(k)));
    running.catch(() => undefined); // awaited below; a failure before that must not go unhandled
    const ahead = await killDuringFailingStatusWrites();
    const flaps = flapLeadership(10_000);
    const conflict = await conflictingCanary();
    const flooded = await flood(8000);
    const runs = (await running).flat();
    const flapped = await flaps.stop();
    const heap = liveHeapBytes();
    const exact = runs.filter((r) => r.exact);
    console.log(
      JSON.stringify({
        plane: world.planes[0]!.label,
        canaries: runs.length,
        exact: exact.length,
        seconds: Math.round((Date.now() - started) / 1000),
        aheadAtKill: ahead,
        leadershipTaken: flapped,
        flood: flooded,
        heapMiB: Math.round(heap / 2 ** 20),
        served: runs.reduce((n, r) => n + (r.served.stable ?? 0) + (r.served.canary ?? 0), 0),
      }),
    );

    expect(runs).toHaveLength(CANARIES);
    for (const r of runs)
      expect(`${r.name} ${r.kind}: ${r.phase}`).toBe(
        `${r.name} ${r.kind}: ${r.kind === "faulty" ? "RolledBack" : "Succeeded"}`,
      );
    expect(exact.length).toBeGreaterThan(0);
    for (const r of exact) {
      expect(r.served.canary ?? 0, `${r.name} served canary requests`).toBeGreaterThan(0);
      expect({ [r.name]: r.counted }).toEqual({ [r.name]: r.served });
    }
    for (const r of runs.filter((x) => !x.exact)) {
      for (const v of ["stable", "canary"])
        expect(r.counted[v] ?? 0, `${r.name} ${v}`).toBeLessThanOrEqual(r.served[v] ?? 0);
    }
    for (const r of runs) {
      expect(watch.weights.get(r.name)?.length ?? 0, `${r.name} weights seen`).toBeGreaterThan(1);
      expect(backwardsMove(watch.weights.get(r.name)!, r.phase === "RolledBack"), r.name).toBeUndefined();
    }
    expect(conflict.message).toContain("is already split by Canary");
    expect([...watch.intruders]).toEqual([]);
    expect(flapped).toBeGreaterThan(0);
    expect(flooded.reports).toBeGreaterThan(100);
    expect(flooded.entryStreamsEnded).toBe(0);
    expect(heap).toBeLessThan(HEAP_CAP);
  }, 900_000);
});

describe("backwardsMove", () => {
  it.each<[number[], boolean, boolean]>([
    [[0, 20, 50, 100], false, true],
    [[0, 20, 0], true, true],
    [[0, 20, 50, 20, 50, 100], false, false],
    [[0, 20, 0], false, false],
    [[0, 20, 0, 20], true, false],
  ])("%j (rolled back: %s) follows the rule: %s", (seq, rolledBack, ok) => {
    expect(backwardsMove(seq, rolledBack) === undefined).toBe(ok);
  });
});
