/**
 * The current Directive (routing table) and its fan-out to every open stream: a new stream gets the
 * current one at once, `publish` sends a newer one to all. Versions only go up.
 */
import type { Directive } from "../gen/meshcanary/v1/telemetry_pb.js";

/** Receives Directives for one stream. */
export type DirectiveSink = (d: Directive) => void;

export class DirectiveBroadcaster {
  private currentDirective: Directive | undefined;
  private readonly sinks = new Set<DirectiveSink>();

  current(): Directive | undefined {
    return this.currentDirective;
  }

  /** Makes `d` current and sends it to every stream; an error value when its version is not above the current. */
  publish(d: Directive): Error | undefined {
    const cur = this.currentDirective;
    if (cur && d.version <= cur.version) {
      return new Error(`directive.version: ${d.version} is not above the current version ${cur.version}`);
    }
    this.currentDirective = d;
    for (const sink of this.sinks) sink(d);
    return undefined;
  }

  /** Registers a stream, sending it the current Directive if any; returns the unsubscribe function. */
  subscribe(sink: DirectiveSink): () => void {
    this.sinks.add(sink);
    if (this.currentDirective) sink(this.currentDirective);
    return () => this.sinks.delete(sink);
  }

  /** Number of subscribed streams. */
  size(): number {
    return this.sinks.size;
  }
}
