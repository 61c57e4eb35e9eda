/**
 * The controller serving its HTTP API: two leader-electing controllers on the embedded Kubernetes
 * API, the simulated reporter streaming to the leader, and real HTTP requests against both.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningController } from "../../controller/app/controller.js";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import { openSse, request, type SseClient } from "../api/http-client.js";
import { healthySpec, type Json, NS, startWorld, until, type World } from "./harness.js";

const TOKEN = "wiring-s3cret";
const NAME = "web";

let world: World;
let leader: RunningController;
let follower: RunningController;
let sim: ReporterSim | undefined;
let sse: SseClient | undefined;

const url = (c: RunningController, path: string) => `http://127.0.0.1:${c.apiPort}${path}`;
const getJson = async (c: RunningController, path: string): Promise<{ status: number; body: Json }> => {
  const r = await request(url(c, path));
  return { status: r.status, body: r.json() };
};
const post = (c: RunningController, command: string, headers: Record<string, string>, name = NAME) =>
  request(url(c, `/api/v1/canaries/${NS}/${name}/${command}`), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: "{}",
  });
const auth = { authorization: `Bearer ${TOKEN}` };

async function phaseVia(c: RunningController): Promise<string | undefined> {
  const r = await getJson(c, `/api/v1/canaries/${NS}/${NAME}`);
  return r.status === 200 ? r.body.phase : undefined;
}

beforeAll(async () => {
  world = await startWorld();
  leader = await world.controller({
    leaderElection: true,
    identity: "a",
    api: { port: 0, host: "127.0.0.1", writeToken: TOKEN },
  });
  await until("a to lead", async () => leader.isLeader());
  follower = await world.controller({
    leaderElection: true,
    identity: "b",
    api: { port: 0, host: "127.0.0.1" },
  });
  sse = await openSse(url(leader, "/api/v1/events"));
  // Step 1 holds for a minute, so the rollout stays at 20% while the test looks at it.
  await world.createCanary(NAME, { ...healthySpec([20, 50]), analysis: { minStepDuration: "60s" } });
  sim = startReporterSim({
    address: `127.0.0.1:${leader.telemetryPort}`,
    canary: `${NS}/${NAME}`,
    rps: 2000,
    failureRate: { stable: 0.01, canary: 0.01 },
    intervalMs: 100,
  });
}, 20_000);

afterAll(async () => {
  sim?.close();
  sse?.close();
  await world?.close();
});

describe("controller HTTP API", () => {
  it("reports ready and healthy on both replicas, leader or not (the Deployment becomes Available)", async () => {
    expect(leader.apiPort).toBeGreaterThan(0);
    expect((await request(url(leader, "/readyz"))).status).toBe(200);
    expect((await request(url(follower, "/readyz"))).status).toBe(200);
    expect((await request(url(leader, "/healthz"))).status).toBe(200);
    expect((await request(url(follower, "/healthz"))).status).toBe(200);
  });

  it("lists the canary progressing with its weights", async () => {
    const listed = await until("web to progress at 20%", async () => {
      const r = await getJson(leader, "/api/v1/canaries");
      const c = (r.body.canaries as Json[]).find((x) => x.name === NAME);
      return c?.phase === "Progressing" && c.canaryWeight === 20 ? c : undefined;
    });
    expect(listed).toMatchObject({
      namespace: NS,
      step: 0,
      stepCount: 2,
      weightBp: { stable: 8000, canary: 2000 },
    });
    const detail = (await getJson(leader, `/api/v1/canaries/${NS}/${NAME}`)).body;
    expect(detail.spec).toMatchObject({ host: "reviews", virtualService: "reviews", stepWeights: [20, 50] });
    expect(detail.timeline.map((t: Json) => `${t.phase}@${t.weight}`)).toEqual(["Progressing@20"]);
    // The follower shows the status its informer sees.
    await until(
      "the follower to show web progressing",
      async () => (await phaseVia(follower)) === "Progressing",
    );
  });

  it("serves per-variant series points with requests", async () => {
    const points = await until("series with both variants", async () => {
      const r = await getJson(leader, `/api/v1/canaries/${NS}/${NAME}/series?since=0`);
      const pts = r.body.points as Json[];
      return pts.some((p) => p.variants.canary?.requests > 0 && p.variants.stable?.requests > 0)
        ? pts
        : undefined;
    });
    const p = points.find((x) => x.variants.canary?.requests > 0)!;
    expect(p.durationMs).toBe(1000);
    expect(p.t % 1000).toBe(0);
    expect(p.variants.stable.requests).toBeGreaterThan(p.variants.canary.requests);
    expect(p.variants.canary.p50Ms).toBeCloseTo(10, 0);
    expect((await request(url(leader, `/api/v1/canaries/${NS}/nope/series`))).status).toBe(404);
  });

  it("gives the dashboard the plan, the commands that apply, the rollout and the checks' evidence", async () => {
    // The leader's analyses of the step reach the detail as e-values against the rollback level.
    const detail = await until("evidence from the leader's analyses", async () => {
      const d = (await getJson(leader, `/api/v1/canaries/${NS}/${NAME}`)).body;
      return d.evidence?.points?.length >= 2 ? d : undefined;
    });
    const points = detail.evidence.points as Array<{ t: number; step: number; e: Record<string, number> }>;
    expect(points.every((p, i) => p.step === 0 && (i === 0 || p.t > points[i - 1]!.t))).toBe(true);
    expect(Object.keys(points[0]!.e)).toEqual(["failure-rate"]);
    // The default failure-rate check is two tests (its max and the comparison with stable), over
    // two steps, at the default alpha 0.01: 1 / (0.01 / 4).
    expect(detail.evidence.rollbackAt).toBeCloseTo(400, 6);
    expect(detail.plan).toEqual([
      { weight: 20, holdMs: 60_000, gate: "analysis" },
      { weight: 50, holdMs: 60_000, gate: "analysis" },
    ]);
    expect(detail.commands.pause).toBeNull();
    expect(detail.commands.resume).toMatch(/^resume does not apply in phase Progressing/);
    expect(detail.stepStartedAt).toEqual(expect.any(String));
    expect(detail.createdAt).toEqual(expect.any(String));
    expect(detail.rollouts).toHaveLength(1);
    expect(detail.rollouts[0]).toMatchObject({ phase: "Progressing", maxStep: 0, maxWeight: 20 });
    expect(detail.rollouts[0].endedAt).toBeUndefined();
  });

  it("exports canary weight and ingest counters on /metrics", async () => {
    const text = await until("accepted reports in /metrics", async () => {
      const body = (await request(url(leader, "/metrics"))).body;
      const m = /meshcanary_telemetry_reports_total\{outcome="accepted"\} (\d+)/.exec(body);
      return m && Number(m[1]) > 0 ? body : undefined;
    });
    expect(text).toContain(`meshcanary_canary_weight_percent{namespace="${NS}",name="${NAME}"} 20`);
    expect(text).toMatch(/meshcanary_telemetry_streams 1\b/);
    expect(text).toMatch(/meshcanary_telemetry_reporters 1\b/);
  });

  it("refuses writes without the token, on a read-only replica, and when the phase does not allow them", async () => {
    expect((await post(leader, "pause", {})).status).toBe(401);
    expect((await post(leader, "pause", { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await post(follower, "pause", auth)).status).toBe(403);
    const resume = await post(leader, "resume", auth);
    expect(resume.status).toBe(409);
    expect(resume.body).toContain("Progressing");
    expect((await post(leader, "pause", auth, "nope")).status).toBe(404);
    const c = await world.canary(NAME);
    expect(c.metadata.annotations?.["meshcanary.io/command"]).toBeUndefined();
  });

  it("pauses and resumes through the command annotation, pushing status events", async () => {
    const paused = await post(leader, "pause", auth);
    expect(paused.status).toBe(200);
    const annotation = (await world.canary(NAME)).metadata.annotations["meshcanary.io/command"];
    expect(annotation).toMatch(/^pause\/\d+$/);
    await until("web to be paused", async () => (await world.canary(NAME)).status?.phase === "Paused");
    expect(await phaseVia(leader)).toBe("Paused");
    const events = () => (sse?.events ?? []) as Json[];
    await until("an SSE status event for Paused", async () =>
      events().some((e) => e.type === "canary" && e.canary.name === NAME && e.canary.phase === "Paused"),
    );
    // Pausing again is not allowed: it is paused already.
    expect((await post(leader, "pause", auth)).status).toBe(409);

    expect((await post(leader, "resume", auth)).status).toBe(200);
    await until(
      "web to progress again",
      async () => (await world.canary(NAME)).status?.phase === "Progressing",
    );
    const c = await world.canary(NAME);
    expect(c.status.lastCommand).toMatch(/^resume\/\d+$/);
    expect(c.status.canaryWeight).toBe(20);
    const detail = (await getJson(leader, `/api/v1/canaries/${NS}/${NAME}`)).body;
    expect(detail.timeline.map((t: Json) => t.phase)).toEqual(["Progressing", "Paused", "Progressing"]);
  });

  it("streams decisions and complete telemetry windows", async () => {
    const events = () => (sse?.events ?? []) as Json[];
    const held = await until("a decision in the detail", async () => {
      const d = (await getJson(leader, `/api/v1/canaries/${NS}/${NAME}`)).body.lastDecision;
      return d?.action === "hold" ? d : undefined;
    });
    expect(held.reason).toBe("minimum step time not reached");
    const pushed = await until("an SSE decision event", async () =>
      events().find((e) => e.type === "decision" && e.name === NAME && e.decision.at === held.at),
    );
    expect(pushed.decision).toEqual(held);
    await until("an SSE series point with canary requests", async () =>
      events().some((e) => e.type === "series" && e.name === NAME && e.point.variants.canary?.requests > 0),
    );
  });
});
