/**
 * The leader (a real `meshcanary controller` process) is SIGKILLed while Canary status writes fail
 * and VirtualService writes succeed, so the mesh is a step ahead of status when the second replica
 * takes over. The successor reads the VirtualService and resumes at the mesh's step: the weight
 * never goes back (it went 60 → 30 → 60 before), and that step's Event and webhook fire once.
 */
import type { ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningController } from "../../controller/app/controller.js";
import type { ReporterSim } from "../../sandbox/reporter-sim.js";
import {
  healthySpec,
  type Json,
  NS,
  targetWeights,
  until,
  type World,
  startWorld,
} from "../controller/harness.js";
import { startControllerProcess } from "../helpers/controller-process.js";
import { expectEachStepOnce, phaseOf, startControllerIn, startResumeReporter } from "./helpers.js";

const VS = `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices`;
let world: World;
let hooks: Server;
const delivered: Json[] = [];
let sim: ReporterSim | undefined;
let child: ChildProcess | undefined;
const controllers: RunningController[] = [];
const stopWatch = new AbortController();

beforeAll(async () => {
  world = await startWorld(["reviews"]);
  hooks = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8");
    });
    req.on("end", () => {
      delivered.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, "127.0.0.1", r));
});
afterAll(async () => {
  stopWatch.abort();
  sim?.close();
  child?.kill("SIGKILL");
  for (const c of controllers) await c.close();
  await new Promise((r) => hooks.close(r));
  await world.close();
});

/** Every canary weight (percent of subset v2 on the target route) the VirtualService held, in order. */
async function watchCanaryWeights(): Promise<number[]> {
  const rv = (await world.req("GET", VS)).body.metadata.resourceVersion;
  const res = await fetch(`${world.api.url}${VS}?watch=true&resourceVersion=${rv}`, {
    headers: { authorization: `Bearer ${world.api.token}` },
    signal: stopWatch.signal,
  });
  const weights: number[] = [];
  let partial = "";
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const lines = (partial + decoder.decode(chunk)).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines.filter((l) => l.trim() !== "")) {
        const event = JSON.parse(line) as Json;
        if (event.object?.metadata?.name === "reviews") weights.push(targetWeights(event.object).v2 ?? 0);
      }
    }
  })().catch(() => undefined);
  return weights;
}

describe("controller killed while status writes fail", () => {
  it("the successor resumes at the step the VirtualService holds: no weight back, each step announced once", async () => {
    const killed = await startControllerProcess(world.api.kubeconfig(), {
      identity: "killed",
      namespace: NS,
      leaseNamespace: NS,
    });
    child = killed.proc;
    await until("controller process to lead", async () => killed.leads());
    const successor = await startControllerIn(world, { leaderElection: true, identity: "b", webhooks: true });
    controllers.push(successor);
    const weights = await watchCanaryWeights();
    await world.createCanary(
      "ahead",
      healthySpec([10, 30, 60], {
        analysis: { minStepDuration: "2s", minRequests: 50 },
        webhooks: [{ name: "record", url: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/` }],
      }),
    );
    sim = startResumeReporter("ahead", [
      `127.0.0.1:${killed.telemetryPort}`,
      `127.0.0.1:${successor.telemetryPort}`,
    ]);
    await phaseOf(world, "ahead", "Progressing", 1);
    world.api.faults.failNext({
      method: "PATCH",
      path: /\/canaries\/ahead\/status$/,
      status: 500,
      times: 1_000_000,
    });
    await until("step 3 (60%) in the VirtualService", async () => weights.includes(60));
    expect((await world.canary("ahead")).status).toMatchObject({
      phase: "Progressing",
      step: 1,
      weightBp: 3000,
    });

    child.kill("SIGKILL");
    await new Promise((r) => child?.once("exit", r));
    world.api.faults.clear();
    await until("the successor to lead", async () => successor.isLeader(), 10_000);

    const done = await phaseOf(world, "ahead", "Succeeded", undefined, 25_000);
    expect(weights.filter((w, i) => i === 0 || w !== weights[i - 1])).toEqual([10, 30, 60, 100]);
    await expectEachStepOnce(world, "ahead", done, 3);
    await until("the Succeeded webhook", async () => delivered.some((d) => d.event === "Succeeded"));
    const progressing = delivered.filter((d) => d.event === "Progressing").map((d) => d.step);
    expect(progressing).toEqual([0, 1, 2]);
    expect(delivered.filter((d) => d.event === "Promoting")).toHaveLength(1);
  }, 60_000);
});
