/**
 * What the rest of the controller sees of telemetry: per (canary, variant) deltas aggregated into
 * 1-second windows. The analysis reads only through TelemetryReader.
 */
import type { Sketch } from "./sketch.js";
import type { UserGroupStats } from "./user-groups.js";

/** Totals of one numeric response metric (e.g. tokens) over a window. */
export interface MetricStats {
  count: number;
  sum: number;
  sketch: Sketch;
}

/** Outcome counts of one variant over a window (deltas, summed over all reporters). */
export interface VariantStats {
  requests: number;
  /** Failures as the filter classifies them: 5xx, no response, upstream-failure flags, configured codes. */
  failures: number;
  statusNone: number;
  status1xx: number;
  status2xx: number;
  status3xx: number;
  status4xx: number;
  status5xx: number;
  /** Latency in microseconds, from the filter routing the request to its on_log. */
  latencyUs: Sketch;
  responseBytes: number;
  metrics: Map<string, MetricStats>;
  /** Requests and failures per user group (telemetry/user-groups.ts); absent when no reporter sent groups. */
  userGroups?: UserGroupStats;
}

/** One window: start time (Unix ms, aligned to the resolution) and the stats per variant seen in it. */
export interface WindowPoint {
  startMs: number;
  variants: Map<string, VariantStats>;
  /** The same stats split by reporter group (telemetry/reporter-groups.ts); absent when not split. */
  groups?: Map<number, Map<string, VariantStats>>;
}

/** Read side of telemetry, the only way other modules see it. */
export interface TelemetryReader {
  /** Windows of a canary with startMs in [fromMs, toMs), oldest first; windows with no data are omitted. */
  series(canary: string, fromMs: number, toMs: number): WindowPoint[];
  /** Routing version each live reporter last said it applies (reporter key -> version). */
  routingVersions(): Map<string, number>;
  /** Reporters ("namespace/pod") in each reporter group of a canary's windows. */
  reporterGroups?(canary: string): Map<number, string[]>;
}
