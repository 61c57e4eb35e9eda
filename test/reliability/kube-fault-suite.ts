/** The world the Kubernetes API fault suites (VirtualService writes, status and watch) run in. */
import { afterAll, afterEach, beforeAll } from "vitest";
import type { RunningController } from "../../controller/app/controller.js";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import { NS, startWorld, type World } from "../controller/harness.js";
import { startControllerIn } from "./helpers.js";

/** One file's world, its one controller and the reporters its tests started; closed after the file. */
export class KubeFaultSuite {
  /** Started before the file's tests; its injected faults are cleared after each test. */
  world!: World;
  /**
   * Tries a Kubernetes request 3 times (backoff from 50 ms), each attempt cut at 1 s: injected faults
   * outlast the retries quickly, and a hanging write is abandoned well within a test's time.
   */
  controller!: RunningController;
  private readonly reporters: ReporterSim[] = [];

  /** Reports Canary `canary` healthy enough to progress (20 000 req/s, 0.2 % failures on both variants). */
  reporter(canary: string): ReporterSim {
    const sim = startReporterSim({
      address: `127.0.0.1:${this.controller.telemetryPort}`,
      canary: `${NS}/${canary}`,
      rps: 20_000,
      failureRate: { stable: 0.002, canary: 0.002 },
    });
    this.reporters.push(sim);
    return sim;
  }

  async close(): Promise<void> {
    for (const s of this.reporters) s.close();
    await this.controller.close();
    await this.world.close();
  }
}

/** Registers the file's hooks: world (with `hosts`) and controller before all, faults cleared after each. */
export function kubeFaultSuite(hosts: string[]): KubeFaultSuite {
  const suite = new KubeFaultSuite();
  beforeAll(async () => {
    suite.world = await startWorld(hosts);
    suite.controller = await startControllerIn(suite.world, {
      kubeRetry: { attempts: 3, baseDelayMs: 50, timeoutMs: 1000 },
    });
  });
  afterEach(() => suite.world.api.faults.clear());
  afterAll(() => suite.close());
  return suite;
}
