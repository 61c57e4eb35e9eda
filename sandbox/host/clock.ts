// The host clock: process clocks in "real" timer mode; in "manual" mode a frozen base that only
// moves through advance(), so ticks and proxy_get_current_time_nanoseconds agree in tests.

/** Clock source injectable through HostOptions. */
export interface ClockSource {
  realtimeNs(): bigint;
  monotonicNs(): bigint;
}

/** Process clocks. */
export const processClock: ClockSource = {
  realtimeNs: () => BigInt(Date.now()) * 1_000_000n,
  monotonicNs: () => process.hrtime.bigint(),
};

/** A clock source plus a manual offset. */
export class HostClock implements ClockSource {
  private offsetNs = 0n;

  constructor(private readonly base: ClockSource) {}

  /** A clock frozen at the current process time, for manual timers. */
  static frozen(): HostClock {
    const real = processClock.realtimeNs();
    const mono = processClock.monotonicNs();
    return new HostClock({ realtimeNs: () => real, monotonicNs: () => mono });
  }

  realtimeNs(): bigint {
    return this.base.realtimeNs() + this.offsetNs;
  }

  monotonicNs(): bigint {
    return this.base.monotonicNs() + this.offsetNs;
  }

  /** Moves both clocks forward. */
  advanceNs(ns: bigint): void {
    this.offsetNs += ns;
  }
}
