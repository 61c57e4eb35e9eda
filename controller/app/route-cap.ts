/**
 * The reconciler's side of the filters' 4096-route limit: which Canaries the published table holds,
 * who is left out (logged once per change), and a per-tick answer to "does this Canary have a
 * route?" so a left-out rollout waits in Initializing instead of starting without traffic.
 */
import type { Logger } from "pino";
import { type CappedSources, capSources, leftOutReason, type RouteSource } from "./directive.js";

export class RouteCap {
  private published: ReadonlySet<string> = new Set();
  private leftOut = "";
  /** The capped table as of one tick: ids considered and ids routed. */
  private cache?: { now: number; considered: Set<string>; routed: Set<string> };

  constructor(
    private readonly max: number,
    private readonly logger: Logger,
  ) {}

  /** The sources that fit in one Directive. */
  cap(sources: readonly RouteSource[]): CappedSources {
    const capped = capSources(sources, this.published, this.max);
    const leftOut = capped.leftOut.join(", ");
    if (leftOut !== this.leftOut && leftOut !== "")
      this.logger.warn({ leftOut: capped.leftOut, max: this.max }, "routing table full: Canaries left out");
    this.leftOut = leftOut;
    return capped;
  }

  /** Remembers the Canaries of the table just published: they keep their place in later tables. */
  publishedTable(routed: readonly RouteSource[]): void {
    this.published = new Set(routed.map((s) => s.canaryId));
  }

  /** Whether Canary `id` has (or would get) a route; `sources` is read at most once per tick and id. */
  hasRoute(id: string, now: number, sources: () => RouteSource[]): boolean {
    let cache = this.cache;
    if (cache === undefined || cache.now !== now || !cache.considered.has(id)) {
      const capped = this.cap(sources());
      const routed = new Set(capped.routed.map((s) => s.canaryId));
      cache = { now, routed, considered: new Set([...routed, ...capped.leftOut]) };
      this.cache = cache;
    }
    return cache.routed.has(id) || !cache.considered.has(id);
  }

  /** What a left-out Canary's rollout is missing (status message and VirtualServiceReady condition). */
  reason(): string {
    return leftOutReason(this.max);
  }
}
