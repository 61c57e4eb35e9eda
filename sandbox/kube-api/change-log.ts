/**
 * The store's change log: the global monotonic resourceVersion, a bounded history of changes that
 * watches resume from (older versions get 410 Gone), and the fan-out of each change to open
 * watches. Separate from the object storage because watch semantics (resume, expiry) depend only
 * on the sequence of changes, not on how objects are kept.
 */
import { err, gone, ok } from "./status.js";
import type { ChangeEvent, Result } from "./types.js";

export class ChangeLog {
  private rv = 0;
  /** Watches may resume from any resourceVersion >= floor. */
  private floor = 0;
  private readonly history: ChangeEvent[] = [];
  private readonly listeners = new Set<(ev: ChangeEvent) => void>();
  private readonly expiryListeners = new Set<() => void>();

  /** `limit`: how many changes are kept for watch resume. */
  constructor(private readonly limit: number) {}

  /** Current (latest) resourceVersion. */
  resourceVersion(): number {
    return this.rv;
  }

  /** Allocates the resourceVersion of the change about to be committed. */
  next(): number {
    this.rv += 1;
    return this.rv;
  }

  /** Keeps a committed change for resume (dropping the oldest past the limit) and tells every listener. */
  publish(ev: ChangeEvent): void {
    this.history.push(ev);
    if (this.history.length > this.limit) {
      const dropped = this.history.splice(0, this.history.length - this.limit);
      this.floor = dropped[dropped.length - 1]!.resourceVersion;
    }
    for (const l of [...this.listeners]) l(ev);
  }

  /** Starts over at a restored resourceVersion, with no history to resume from. */
  restoreAt(resourceVersion: number): void {
    this.rv = resourceVersion;
    this.floor = resourceVersion;
  }

  /** Changes since resourceVersion `from` (exclusive), or 410 Gone when history no longer reaches back that far. */
  changesSince(from: number): Result<ChangeEvent[]> {
    if (from < this.floor) {
      return err(gone(`too old resource version: ${from} (${this.floor})`));
    }
    return ok(this.history.filter((ev) => ev.resourceVersion > from));
  }

  /** Registers a listener for every committed change; returns the unsubscribe function. */
  subscribe(listener: (ev: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Registers a listener for forced watch expiry; returns the unsubscribe function. */
  onExpire(listener: () => void): () => void {
    this.expiryListeners.add(listener);
    return () => this.expiryListeners.delete(listener);
  }

  /** Forgets the change history: open watches end with 410 Gone and older resourceVersions can no longer resume. */
  expire(): void {
    this.history.length = 0;
    this.floor = this.rv;
    for (const l of [...this.expiryListeners]) l();
  }
}
