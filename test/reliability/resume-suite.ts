/** The world the resume suites (restart, leader-move, kill) interrupt a rollout in, and what they start in it. */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll } from "vitest";
import type { RunningController } from "../../controller/app/controller.js";
import type { ReporterSim } from "../../sandbox/reporter-sim.js";
import { startWorld, type World } from "../controller/harness.js";
import { type ControllerChoice, startControllerIn, startResumeReporter } from "./helpers.js";

/** One file's world and what its test started there; all of it closed after the file, the world last. */
export class ResumeSuite {
  /** Started before the file's tests, with the one service (reviews) the rollouts move. */
  world!: World;
  /** Controllers run as their own processes; SIGKILLed at the end (a no-op for one already killed). */
  readonly processes: ChildProcess[] = [];
  private readonly controllers: RunningController[] = [];
  private readonly reporters: ReporterSim[] = [];

  /** A controller against the world (see startControllerIn); a test may close it earlier. */
  async controller(choice?: ControllerChoice): Promise<RunningController> {
    const c = await startControllerIn(this.world, choice);
    this.controllers.push(c);
    return c;
  }

  /** The reconnecting reporter of startResumeReporter. */
  reporter(name: string, addresses: string[]): ReporterSim {
    const sim = startResumeReporter(name, addresses);
    this.reporters.push(sim);
    return sim;
  }

  async close(): Promise<void> {
    for (const s of this.reporters) s.close();
    for (const p of this.processes) p.kill("SIGKILL");
    for (const c of this.controllers) await c.close();
    await this.world.close();
  }
}

/** Registers the file's beforeAll (start the world) and afterAll (close everything). */
export function resumeSuite(): ResumeSuite {
  const suite = new ResumeSuite();
  beforeAll(async () => {
    suite.world = await startWorld(["reviews"]);
  });
  afterAll(() => suite.close());
  return suite;
}
