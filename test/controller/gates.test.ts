/**
 * Gating webhooks end to end: the controller (embedded Kubernetes API, real gRPC telemetry from the
 * reporter simulator) calls real HTTP gate servers, and their answers hold, release or stop rollouts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import { healthySpec, type Json, NS, startWorld, targetWeights, until, type World } from "./harness.js";

let world: World;
const sims: ReporterSim[] = [];
const servers: Server[] = [];
/** Bodies received per path, in order. */
const calls: Record<string, Json[]> = {};
/** What each path answers now (tests flip these). */
const answer: Record<string, (res: ServerResponse) => void> = {};

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function record(path: string, body: Json): void {
  calls[path] = [...(calls[path] ?? []), body];
}

let gates: string;
let elsewhere: string;

beforeAll(async () => {
  world = await startWorld(["reviews", "ratings", "details"]);
  elsewhere = await serve((_req, res) => {
    record("/elsewhere", {});
    res.writeHead(200).end();
  });
  gates = await serve((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "";
      record(path, JSON.parse(Buffer.concat(chunks).toString()));
      (answer[path] ?? ((r) => r.writeHead(404).end()))(res);
    });
  });
});
afterAll(async () => {
  for (const s of sims) s.close();
  await world.close();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

const status = async (name: string) => (await world.canary(name)).status ?? {};
const gateStatus = (s: Json, name: string) => (s.gates as Json[] | undefined)?.find((g) => g.name === name);

describe("gating webhooks", () => {
  it("pre-rollout holds the first step, confirm-promotion holds the promotion, post-rollout hears the end", async () => {
    answer["/smoke"] = (res) => res.writeHead(503).end("warming up");
    answer["/freeze"] = (res) => res.writeHead(423).end("change freeze until 12:00");
    answer["/report"] = (res) => res.writeHead(500).end("z".repeat(4 * 1024 * 1024));
    const c = await world.controller();
    await world.createCanary("gated", {
      ...healthySpec([10, 50]),
      gates: [
        { name: "smoke", type: "pre-rollout", url: `${gates}/smoke`, interval: "1s", failureLimit: 50 },
        {
          name: "freeze",
          type: "confirm-promotion",
          url: `${gates}/freeze`,
          interval: "1s",
          metadata: { ticket: "CHG-42" },
        },
        { name: "report", type: "post-rollout", url: `${gates}/report` },
      ],
    });
    sims.push(
      startReporterSim({
        address: `127.0.0.1:${c.telemetryPort}`,
        canary: `${NS}/gated`,
        rps: 20_000,
        failureRate: { stable: 0.002, canary: 0.002 },
      }),
    );

    const held = await until("the pre-rollout gate to fail", async () => {
      const s = await status("gated");
      return gateStatus(s, "smoke")?.failures >= 2 ? s : undefined;
    });
    expect(held.phase).toBe("Initializing");
    expect(held.message).toMatch(
      /^waiting for pre-rollout gates: smoke: HTTP 503: warming up \(failure \d+ of 50\)$/,
    );
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v1: 100 });

    answer["/smoke"] = (res) => res.writeHead(200).end();
    const awaiting = await until(
      "the promotion to wait for the confirm-promotion gate",
      async () => {
        const s = await status("gated");
        return s.phase === "Paused" && gateStatus(s, "freeze")?.result === "Failed" ? s : undefined;
      },
      25_000,
    );
    expect(awaiting.pausedBy).toBe("gate");
    expect(gateStatus(awaiting, "freeze").message).toBe("HTTP 423: change freeze until 12:00");
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v1: 50, v2: 50 });
    const body = calls["/freeze"]!.at(-1);
    expect(body).toMatchObject({
      name: "gated",
      namespace: NS,
      canary: `${NS}/gated`,
      type: "confirm-promotion",
      phase: "Paused",
      step: 1,
      canaryWeight: 50,
      metadata: { ticket: "CHG-42" },
    });

    // An operator's promote does not override the gate.
    await world.annotate("gated", "promote-full/1");
    const refused = await until("the promote to be refused", async () => {
      const s = await status("gated");
      return s.commandResult?.command === "promote-full/1" ? s : undefined;
    });
    expect(refused.commandResult.result).toBe("Refused");
    expect(refused.phase).toBe("Paused");

    answer["/freeze"] = (res) => res.writeHead(204).end();
    const done = await until("the rollout to succeed", async () => {
      const s = await status("gated");
      return s.phase === "Succeeded" && gateStatus(s, "report")?.result === "Failed" ? s : undefined;
    });
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v2: 100 });
    // post-rollout is informational: its failure (a 4 MiB body, cut to an excerpt) changes nothing.
    expect(gateStatus(done, "report").message).toMatch(/^HTTP 500: z{200}…$/);
    expect(calls["/report"]).toHaveLength(1);
    expect(calls["/report"]![0]).toMatchObject({
      type: "post-rollout",
      phase: "Succeeded",
      canaryWeight: 100,
    });
    const reasons = (await world.events("gated")).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["GateFailed", "GatePassed", "Succeeded"]));
  }, 40_000);

  it("a pre-rollout gate that redirects elsewhere or hangs rolls back at its failure limit, naming why", async () => {
    answer["/redirect"] = (res) => res.writeHead(307, { location: `${elsewhere}/collect` }).end();
    answer["/hang"] = () => {};
    await world.controller();
    const one = (host: string, path: string) => ({
      ...healthySpec([10]),
      host,
      virtualService: { name: host },
      gates: [
        {
          name: "check",
          type: "pre-rollout",
          url: `${gates}${path}`,
          interval: "1s",
          timeoutSeconds: 1,
          failureLimit: 2,
        },
      ],
    });
    await world.createCanary("redirected", one("ratings", "/redirect"));
    await world.createCanary("hanging", one("details", "/hang"));
    for (const [name, reason] of [
      [
        "redirected",
        /^pre-rollout gate check failed 2 times \(limit 2\): HTTP 307: redirect to http:\/\/127\.0\.0\.1:\d+ not followed$/,
      ],
      ["hanging", /^pre-rollout gate check failed 2 times \(limit 2\): timed out after 1s$/],
    ] as const) {
      const s = await until(`${name} to roll back`, async () => {
        const got = await status(name);
        return got.phase === "RolledBack" ? got : undefined;
      });
      expect(s.lastDecision.reason, name).toMatch(reason);
      expect(gateStatus(s, "check"), name).toMatchObject({ result: "Failed", failures: 2 });
      // No canary traffic was ever routed.
      expect(
        (s.history as Json[]).map((h) => h.to),
        name,
      ).toEqual(["RolledBack"]);
    }
    expect(calls["/elsewhere"]).toBeUndefined();
    expect(targetWeights(await world.vs("ratings"))).toEqual({ v1: 100 });
    expect(targetWeights(await world.vs("details"))).toEqual({ v1: 100 });
  }, 30_000);
});
