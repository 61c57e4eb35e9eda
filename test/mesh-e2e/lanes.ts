/**
 * A lane is one service running Canaries one after another: create, send traffic through every
 * proxy until the rollout ends, check the controller counted exactly what the upstreams served,
 * delete, next. Stable and canary subsets alternate as promotions happen (v1 → v2 → v1 …), so every
 * Canary starts from the route the previous one left.
 */
import { Agent, request } from "node:http";
import type { TelemetryReader } from "../../controller/telemetry/types.js";
import type { DataPlane } from "../../sandbox/data-plane.js";
import type { Json } from "../controller/harness.js";
import { NS, until } from "../controller/harness.js";
import { type MeshWorld, REPORT_INTERVAL_MS } from "./mesh-world.js";
import { METRIC_HEADER } from "./upstreams.js";

export type CanaryKind = "healthy" | "faulty";

/** What one Canary's run left behind. */
export interface CanaryRun {
  name: string;
  service: string;
  kind: CanaryKind;
  phase: string;
  canarySubset: string;
  /** Marked requests the upstreams served, by variant. */
  served: Record<string, number>;
  /** What the controller that finished the rollout counted, by variant. */
  counted: Record<string, number>;
  /** Its whole life was counted by that controller (created after the takeover): counts must be equal. */
  exact: boolean;
}

/** The Canary the lanes create: two steps, then promotion; decided in seconds as in the demo. */
export function canarySpec(world: MeshWorld, service: string, stable: string, canary: string) {
  return {
    host: world.fqdn(service),
    virtualService: { name: service },
    stable: { subset: stable },
    canary: { subset: canary },
    metrics: [{ name: "tokens", header: METRIC_HEADER }],
    strategy: { canary: { steps: [{ weight: 20 }, { weight: 50 }] } },
    // A 10% ceiling decides from a few dozen canary requests either way (the faulty canary fails
    // a quarter of them), which keeps 100 rollouts within minutes on a loaded 2-core machine.
    analysis: {
      alpha: 0.05,
      minRequests: 30,
      minStepDuration: "1s",
      blockDuration: "1s",
      checks: [{ name: "failure-rate", failureRate: { max: 10 } }],
    },
  };
}

/** Requests for one Canary's service through every proxy in turn, `concurrency` at a time. */
export function startTraffic(
  planes: DataPlane[],
  authority: string,
  tag: string,
  concurrency = 2,
): { stop(): Promise<number> } {
  const agents = planes.map(() => new Agent({ keepAlive: true, maxSockets: concurrency }));
  let running = true;
  let sent = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: planes[i]!.port,
          path: "/v1/completions",
          agent: agents[i],
          headers: { host: authority, "x-test-canary": tag, "x-user-id": `u${sent % 997}` },
        },
        (res) => {
          res.resume();
          res.on("end", resolve);
          res.on("error", () => resolve());
        },
      );
      req.on("error", () => resolve());
      req.end();
    });
  const loops = Array.from({ length: concurrency }, async (_, k) => {
    for (let n = k; running; n += concurrency) {
      sent++;
      await one(n % planes.length);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
      return sent;
    },
  };
}

/** Requests and failures of one canary by variant, over every window the reader holds. */
export function countedBy(reader: TelemetryReader, canaryId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of reader.series(canaryId, 0, Number.MAX_SAFE_INTEGER)) {
    for (const [variant, s] of p.variants) out[variant] = (out[variant] ?? 0) + s.requests;
  }
  return out;
}

const TERMINAL = new Set(["Succeeded", "RolledBack", "Aborted"]);

export interface Lane {
  service: string;
  /** Subset serving all traffic between Canaries. */
  current: "v1" | "v2";
  /** The Canary whose routes the VirtualService holds now (for the weight watch). */
  active?: { name: string; canarySubset: string; kind: CanaryKind };
}

/** Runs one Canary on a lane to its end and deletes it. */
export async function runCanary(
  world: MeshWorld,
  lane: Lane,
  name: string,
  kind: CanaryKind,
  reader: () => { reader: TelemetryReader; leading: boolean },
): Promise<CanaryRun> {
  const stable = lane.current;
  const canarySubset = stable === "v1" ? "v2" : "v1";
  const authority = world.fqdn(lane.service);
  world.upstreams.behave(authority, canarySubset, { failEvery: kind === "faulty" ? 4 : 0 });
  lane.active = { name, canarySubset, kind };
  const exact = reader().leading;
  await world.kube.createCanary(name, canarySpec(world, lane.service, stable, canarySubset));
  const traffic = startTraffic(world.planes, authority, name, 4);
  let done: Json;
  let last: Json;
  try {
    done = await until(
      `${name} (${kind}) to finish`,
      async () => {
        last = await world.kube.canary(name);
        return TERMINAL.has(last.status?.phase) ? last : undefined;
      },
      120_000,
    ).catch((err: Error) => {
      const r = reader();
      const st = world.standby.reconciler.get(`${NS}/${name}`)?.state;
      const seen = `leader state ${JSON.stringify({ phase: st?.phase, step: st?.step, start: st?.stepStartedAt, msg: st?.message, a: st?.analysisState })}, ${r.reader.routingVersions().size} reporters, counted ${JSON.stringify(countedBy(r.reader, `${NS}/${name}`))}, served ${JSON.stringify(marked(world.upstreams.served(name)))}`;
      throw new Error(`${err.message}: ${JSON.stringify(last?.status?.message)}; ${seen}`);
    });
  } finally {
    await traffic.stop();
  }
  const id = `${NS}/${name}`;
  const served = marked(world.upstreams.served(name));
  // The last tallies arrive with the proxies' next reports; equal, then still equal two reports
  // later. A canary counted before the takeover only has to be no more than served.
  if (exact) {
    await until(
      `${name}: counted = served`,
      async () => same(countedBy(reader().reader, id), served),
      10_000,
    ).catch(() => undefined);
  }
  await new Promise((r) => setTimeout(r, 3 * REPORT_INTERVAL_MS));
  const counted = countedBy(reader().reader, id);
  await deleteCanary(world, name);
  lane.active = undefined;
  if (done.status.phase === "Succeeded") lane.current = canarySubset;
  world.upstreams.behave(authority, canarySubset, { failEvery: 0 });
  return {
    name,
    service: lane.service,
    kind,
    phase: done.status.phase,
    canarySubset,
    served,
    counted,
    exact,
  };
}

/** Deletes a Canary and waits until the API no longer has it (the controller released its finalizer). */
export async function deleteCanary(world: MeshWorld, name: string): Promise<void> {
  const path = `/apis/meshcanary.io/v1alpha1/namespaces/${NS}/canaries/${name}`;
  await world.kube.req("DELETE", path);
  await until(`${name} to be gone`, async () => (await world.kube.req("GET", path)).status === 404, 30_000);
}

function marked(byVariant: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [variant, n] of byVariant) if (variant !== "") out[variant] = n;
  return out;
}

function same(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}
