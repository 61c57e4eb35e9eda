// A host clock for tests of what the filter times: frozen at creation like the manual-timer default,
// and moved only by elapse(), so a request's latency (routing to on_log) is exactly what the test
// lets pass between the two callbacks.
import type { ClockSource } from "../../sandbox/host/index.js";

export interface LatencyClock extends ClockSource {
  /** Moves both clocks forward by `ns`. */
  elapse(ns: number): void;
}

export function latencyClock(): LatencyClock {
  const real = BigInt(Date.now()) * 1_000_000n;
  const mono = process.hrtime.bigint();
  let extra = 0n;
  return {
    realtimeNs: () => real + extra,
    monotonicNs: () => mono + extra,
    elapse(ns) {
      extra += BigInt(ns);
    },
  };
}
