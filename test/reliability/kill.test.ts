/**
 * The leading controller is a real `meshcanary controller` process, SIGKILLed mid-step: no graceful
 * close, so its Lease stays held. The second replica takes over only once the lease has expired,
 * resumes at the same step, promotes once, and takes the reporter's cumulative totals as a
 * baseline, not as a burst of traffic.
 */
import type { ChildProcess } from "node:child_process";
import { describe, expect, it } from "vitest";
import { NS, until } from "../controller/harness.js";
import { startControllerProcess } from "../helpers/controller-process.js";
import { createResumeCanary, expectResumedOnce, phaseOf } from "./helpers.js";
import { resumeSuite } from "./resume-suite.js";

const LEASE = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/meshcanary-controller`;
const suite = resumeSuite();

/** Starts the CLI controller as its own process; resolves with its telemetry port once it leads. */
async function startLeadingProcess(identity: string): Promise<{ proc: ChildProcess; port: number }> {
  const p = await startControllerProcess(suite.world.api.kubeconfig(), {
    identity,
    namespace: NS,
    leaseNamespace: NS,
  });
  await until("controller process to lead", async () => p.leads());
  return { proc: p.proc, port: p.telemetryPort };
}

describe("leader process killed", () => {
  it("the second replica takes over after the held lease expires and resumes at the same step", async () => {
    const { world } = suite;
    const killed = await startLeadingProcess("killed");
    const child = killed.proc;
    suite.processes.push(child);
    const b = await suite.controller({ leaderElection: true, identity: "b" });
    await createResumeCanary(world, "killed");
    const sim = suite.reporter("killed", [`127.0.0.1:${killed.port}`, `127.0.0.1:${b.telemetryPort}`]);
    await phaseOf(world, "killed", "Progressing", 1);
    expect(b.isLeader()).toBe(false);

    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    // Nothing released the lease: b has to wait for it to expire.
    expect((await world.req("GET", LEASE)).body.spec.holderIdentity).toBe("killed");
    const sentBefore = sim.sent();
    await until("b to take over", async () => b.isLeader(), 10_000);
    const lease = (await world.req("GET", LEASE)).body.spec;
    expect(lease).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });

    await expectResumedOnce(world, "killed", b, sentBefore);
  }, 45_000);
});
