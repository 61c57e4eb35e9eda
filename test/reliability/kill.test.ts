/**
 * The leading controller is a real `meshcanary controller` process, SIGKILLed mid-step: no graceful
 * close, so its Lease stays held. The second replica takes over only once the lease has expired,
 * resumes at the same step, promotes once, and takes the reporter's cumulative totals as a
 * baseline, not as a burst of traffic.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningController } from "../../controller/app/controller.js";
import type { ReporterSim } from "../../sandbox/reporter-sim.js";
import { NS, startWorld, until, type World, type Json } from "../controller/harness.js";
import {
  createResumeCanary,
  expectResumedOnce,
  startControllerIn,
  startResumeReporter,
  phaseOf,
} from "./helpers.js";

const LEASE = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/meshcanary-controller`;
let world: World;
let sim: ReporterSim | undefined;
let child: ChildProcess | undefined;
const controllers: RunningController[] = [];

beforeAll(async () => {
  world = await startWorld(["reviews"]);
});
afterAll(async () => {
  sim?.close();
  child?.kill("SIGKILL");
  for (const c of controllers) await c.close();
  await world.close();
});

/** Starts the CLI controller as its own process; resolves with its telemetry port once it leads. */
async function startControllerProcess(identity: string): Promise<{ proc: ChildProcess; port: number }> {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), "meshcanary-kill-")), "kubeconfig");
  writeFileSync(kubeconfig, world.api.kubeconfig());
  const args = ["bin/meshcanary.js", "controller", "--kubeconfig", kubeconfig, "--namespace", NS];
  args.push("--leader-elect", "--lease-namespace", NS, "--lease-duration", "2", "--tick", "200");
  args.push("--telemetry-port", "0", "--http-port", "0", "--log-level", "info");
  const proc = spawn(process.execPath, args, { env: { ...process.env, POD_NAME: identity } });
  const logs: Json[] = [];
  let partial = "";
  proc.stdout?.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) logs.push(JSON.parse(line));
  });
  let stderr = "";
  proc.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const started = await until(`controller process to start (stderr: ${stderr})`, async () =>
    logs.find((l) => l.msg === "controller started"),
  );
  await until("controller process to lead", async () => logs.some((l) => l.msg === "leading"));
  return { proc, port: started.telemetryPort as number };
}

describe("leader process killed", () => {
  it("the second replica takes over after the held lease expires and resumes at the same step", async () => {
    const killed = await startControllerProcess("killed");
    child = killed.proc;
    const b = await startControllerIn(world, { leaderElection: true, identity: "b" });
    controllers.push(b);
    await createResumeCanary(world, "killed");
    sim = startResumeReporter("killed", [`127.0.0.1:${killed.port}`, `127.0.0.1:${b.telemetryPort}`]);
    await phaseOf(world, "killed", "Progressing", 1);
    expect(b.isLeader()).toBe(false);

    child.kill("SIGKILL");
    await new Promise((r) => child?.once("exit", r));
    // Nothing released the lease: b has to wait for it to expire.
    expect((await world.req("GET", LEASE)).body.spec.holderIdentity).toBe("killed");
    const sentBefore = sim.sent();
    await until("b to take over", async () => b.isLeader(), 10_000);
    const lease = (await world.req("GET", LEASE)).body.spec;
    expect(lease).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });

    await expectResumedOnce(world, "killed", b, sentBefore);
  }, 45_000);
});
