/**
 * Time to roll back (DESIGN §7): the whole sandbox (embedded Kubernetes API, controller, the filter
 * in a 2-worker sidecar, stable and canary apps, a sticky-user load generator). The canary sits at
 * 50% of the load with both versions failing 1% of requests; at a known instant the canary app
 * starts failing 5% (or answering 100 ms slower). Measured from that onset: the controller's
 * decision (status → RollingBack), the VirtualService write, and every filter worker routing 0%
 * canary — found with a probe user in the top sticky bucket, who is on the canary at any non-zero
 * weight.
 *
 * Baseline: a Flagger-style rule (60 s interval; rollback after 1 or after 5 failed checks) replayed
 * on the windows the controller saw in the same run, continued at the same rates (flagger-replay.ts).
 */
import { measureOnce } from "./rollback-measure.js";
import { scenarioEntries } from "./rollback-report.js";
import { scenarios } from "./rollback-scenarios.js";
import type { Bench, BenchEntry } from "./results.js";

export const rollbackTime: Bench = {
  name: "rollback-time",
  async run(ctx) {
    const { list, healthyMs, limitMs } = scenarios(ctx);
    const out: BenchEntry[] = [];
    for (const s of list) {
      ctx.log(`rollback-time: ${s.describe}`);
      const m = await measureOnce(s, healthyMs, limitMs);
      out.push(...scenarioEntries(s, m, limitMs / 1000));
    }
    return out;
  },
};
