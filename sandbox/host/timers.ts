// Tick timers per (worker, root context) (host contract §5.4): first tick after the period,
// re-armed after each on_tick (so period + run time), 0 cancels.
import type { HostClock } from "./clock.js";

/** Fires one tick; the timer service re-arms afterwards if the period is still set. */
export type TickFn = (worker: number, rootId: number) => void;

interface Timer {
  worker: number;
  rootId: number;
  periodMs: number;
  dueNs: bigint;
  handle?: NodeJS.Timeout;
  generation: number;
}

/** Schedules ticks either on the event loop ("real") or through advance() ("manual"). */
export class TimerService {
  private readonly timers = new Map<string, Timer>();
  private generation = 0;

  constructor(
    readonly mode: "real" | "manual",
    private readonly clock: HostClock,
    private readonly tick: TickFn,
  ) {}

  /** proxy_set_tick_period_milliseconds for a root context. */
  set(worker: number, rootId: number, periodMs: number): void {
    this.cancel(worker, rootId);
    if (periodMs === 0) return;
    this.arm({ worker, rootId, periodMs, dueNs: 0n, generation: ++this.generation });
  }

  cancel(worker: number, rootId: number): void {
    const key = `${worker}:${rootId}`;
    const t = this.timers.get(key);
    if (t?.handle) clearTimeout(t.handle);
    this.timers.delete(key);
  }

  /** Cancels every timer of a worker (its VM went away). */
  cancelWorker(worker: number): void {
    for (const t of [...this.timers.values()]) if (t.worker === worker) this.cancel(t.worker, t.rootId);
  }

  private arm(t: Timer): void {
    t.dueNs = this.clock.monotonicNs() + BigInt(t.periodMs) * 1_000_000n;
    this.timers.set(`${t.worker}:${t.rootId}`, t);
    if (this.mode === "real") {
      t.handle = setTimeout(() => this.fire(t), t.periodMs);
      t.handle.unref();
    }
  }

  private fire(t: Timer): void {
    t.handle = undefined;
    this.tick(t.worker, t.rootId);
    // Re-arm only if on_tick did not replace or cancel this timer.
    if (this.timers.get(`${t.worker}:${t.rootId}`) === t) this.arm(t);
  }

  /** Manual mode: moves the clock forward, firing due ticks in time order. */
  advance(ms: number): void {
    const target = this.clock.monotonicNs() + BigInt(Math.round(ms * 1e6));
    for (;;) {
      const next = this.nextDue();
      if (!next || next.dueNs > target) break;
      const now = this.clock.monotonicNs();
      if (next.dueNs > now) this.clock.advanceNs(next.dueNs - now);
      this.fire(next);
    }
    const now = this.clock.monotonicNs();
    if (target > now) this.clock.advanceNs(target - now);
  }

  private nextDue(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers.values()) {
      if (!best || t.dueNs < best.dueNs || (t.dueNs === best.dueNs && t.generation < best.generation))
        best = t;
    }
    return best;
  }

  close(): void {
    for (const t of this.timers.values()) if (t.handle) clearTimeout(t.handle);
    this.timers.clear();
  }
}
