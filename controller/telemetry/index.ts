/**
 * Telemetry ingest wired together: gRPC server -> bounds -> per-reporter deltas -> 1 s windows,
 * plus the Directive broadcaster. The rest of the controller uses only what this module returns.
 */
import * as grpc from "@grpc/grpc-js";
import pino, { type Logger } from "pino";
import type { Directive } from "../gen/meshcanary/v1/telemetry_pb.js";
import { type BoundsConfig, checkEntries, checkReport, DEFAULT_BOUNDS, type Violation } from "./bounds.js";
import { DirectiveBroadcaster } from "./directives.js";
import { authenticateStream, type IdentityMode, reporterMismatch, type StreamIdentity } from "./identity.js";
import { type DeltaTarget, Ingest } from "./ingest.js";
import { ReporterGroups } from "./reporter-groups.js";
import { type Incoming, type StreamEnd, startGrpcServer } from "./server.js";
import type { TelemetryReader } from "./types.js";
import { Windows } from "./windows.js";

export interface TelemetryServerOptions {
  /** host:port to bind; default "127.0.0.1:0". */
  address?: string;
  /** Shared token required in stream metadata `x-meshcanary-token`; undefined = none. */
  token?: string;
  /** How reporters are identified (mesh peer, issued credential, or their own word); default none. */
  identity?: IdentityMode;
  /** Whether a canary id is managed by this controller (entries of unknown canaries are dropped). */
  isKnownCanary(id: string): boolean;
  /** Bound overrides (message size, counts); defaults in DEFAULT_BOUNDS. */
  bounds?: Partial<Omit<BoundsConfig, "isKnownCanary">>;
  /** Window history kept, ms; default 30 min. */
  historyMs?: number;
  /** Reporters silent this long are forgotten, ms; default 10 min. */
  reporterIdleMs?: number;
  /**
   * Reporters silent this long no longer count as live filters whose routing version a change waits
   * for, ms; default 10 s (ten default report intervals). A pod gone, or a stream ended, would
   * otherwise hold every propagation back to its timeout until the reporter is forgotten.
   */
  liveReporterMs?: number;
  logger?: Logger;
  /** Clock (Unix ms); injectable for tests. */
  now?: () => number;
  /** Whether to accept new streams now (false: UNAVAILABLE, so filters reconnect to the leader); default always. */
  serving?: () => boolean;
}

export interface TelemetryStats {
  /** Reports received (any outcome). */
  reports: number;
  /** Reports accepted into the windows. */
  accepted: number;
  /** Duplicates, stale instances and takeover attempts ignored. */
  ignored: number;
  /** Rejected reports by reason. */
  rejected: Record<string, number>;
  /** Entries dropped from otherwise used reports, by reason (unknown_canary, impossible_counts, ...). */
  droppedEntries: Record<string, number>;
  /** Streams refused before any report, by reason ("token", "identity", "not_serving"). */
  refusedStreams: Record<string, number>;
  /** Open Connect streams. */
  streams: number;
  /** Reporters currently tracked. */
  reporters: number;
}

export interface TelemetryServer {
  port: number;
  reader: TelemetryReader;
  /** Sends a newer Directive to every stream; error value when its version is not above the current. */
  publish(d: Directive): Error | undefined;
  stats(): TelemetryStats;
  /**
   * This replica stopped leading. Every open stream ends (UNAVAILABLE) at its next Report, which is
   * not counted: the filter marks a report delivered only once its stream outlived an interval after
   * it, so its next stream, on the leader, carries as baseline the totals of the last Report counted
   * here. Should leadership come back, a reporter whose new stream's baseline is ahead of the totals
   * held here is counted from that baseline, past what another leader counted meanwhile (Ingest).
   * Returns the number of streams drained.
   */
  stopServing(): number;
  close(): Promise<void>;
}

/** How a non-leader ends a stream: the filter reconnects, through the Service, to another replica. */
const NOT_LEADER: StreamEnd = { code: grpc.status.UNAVAILABLE, details: "not the leader; reconnect" };

/** Slack above the bounds' message limit so a slightly oversized Report gets INVALID_ARGUMENT, not RESOURCE_EXHAUSTED. */
const RECEIVE_SLACK_BYTES = 1024 * 1024;

/** Reasons that say who sent a Report, not what it holds. */
const IDENTITY_REASONS = new Set(["identity_mismatch", "instance_takeover"]);

function invalid(v: Violation): StreamEnd {
  return {
    code: IDENTITY_REASONS.has(v.reason) ? grpc.status.PERMISSION_DENIED : grpc.status.INVALID_ARGUMENT,
    details: `${v.field}: ${v.reason} (${v.value})`,
    trailers: { "x-meshcanary-reason": v.reason, "x-meshcanary-field": v.field },
  };
}

export async function startTelemetryServer(opts: TelemetryServerOptions): Promise<TelemetryServer> {
  const log = opts.logger ?? pino({ level: "silent" });
  const now = opts.now ?? Date.now;
  const bounds: BoundsConfig = { ...DEFAULT_BOUNDS, ...opts.bounds, isKnownCanary: opts.isKnownCanary };
  const ingest = new Ingest();
  const identityMode: IdentityMode = opts.identity ?? { kind: "none" };
  const windows = new Windows(opts.historyMs);
  const directives = new DirectiveBroadcaster();
  const counts = { reports: 0, accepted: 0, ignored: 0 };
  const rejected: Record<string, number> = {};
  const droppedEntries: Record<string, number> = {};
  const refusedStreams: Record<string, number> = {};

  const reject = (v: Violation, reporter: string, peer: string): StreamEnd => {
    rejected[v.reason] = (rejected[v.reason] ?? 0) + 1;
    log.warn(
      { reporter, peer, reason: v.reason, field: v.field, value: v.value },
      "telemetry report rejected",
    );
    return invalid(v);
  };
  const drop = (v: Violation, reporter: string): void => {
    droppedEntries[v.reason] = (droppedEntries[v.reason] ?? 0) + 1;
    // A Canary just deleted is still reported until each filter has delivered its last totals.
    const level = v.reason === "unknown_canary" ? "debug" : "warn";
    log[level](
      { reporter, reason: v.reason, field: v.field, value: v.value },
      "telemetry report entry dropped",
    );
  };

  // Changes go straight into the current window's stats of the reporter's group (one target for all
  // reports: no closure per report).
  const groups = new ReporterGroups();
  let receivedMs = 0;
  let from = { namespace: "", pod: "" };
  const toWindow: DeltaTarget = (canary, variant) =>
    windows.statsAt(canary, variant, receivedMs, groups.groupOf(canary, from.namespace, from.pod));

  const onReport = (msg: Incoming, peer: string, identity: StreamIdentity): StreamEnd | null => {
    counts.reports++;
    if (!msg.ok) return reject({ reason: "undecodable", field: "report", value: msg.error }, "?", peer);
    const r = msg.report;
    const who = r.reporter ? `${r.reporter.namespace}/${r.reporter.pod}` : "?";
    const v = checkReport(r, msg.size, bounds) ?? reporterMismatch(identity, r.reporter!);
    if (v) return reject(v, who, peer);
    receivedMs = now();
    from = r.reporter!;
    const dropped = checkEntries(r, bounds);
    const res = ingest.apply(r, receivedMs, toWindow, dropped, identity.principal);
    if (res.kind === "ignored") {
      counts.ignored++;
      if (res.reason === "instance_takeover") {
        const value = `${r.reporter!.instanceId} from ${identity.principal || "an unauthenticated peer"}`;
        return reject({ reason: "instance_takeover", field: "reporter.instance_id", value }, who, peer);
      }
      return null;
    }
    for (const d of dropped) drop(d.violation, res.reporter);
    for (const d of res.dropped) drop(d, res.reporter);
    counts.accepted++;
    if (res.restart) log.info({ reporter: res.reporter }, "telemetry reporter restarted");
    return null;
  };

  const grpcServer = await startGrpcServer({
    address: opts.address ?? "127.0.0.1:0",
    maxReceiveBytes: bounds.maxMessageBytes + RECEIVE_SLACK_BYTES,
    token: opts.token,
    onReport,
    authenticate: (metadata) => authenticateStream(identityMode, metadata),
    directives,
    onRefused: (reason, peer, why) => {
      refusedStreams[reason] = (refusedStreams[reason] ?? 0) + 1;
      if (reason === "identity") log.warn({ peer, why }, "telemetry stream refused: no usable identity");
      // The presented token is never logged: it may be another system's secret.
      if (reason === "token")
        log.warn({ peer }, "telemetry stream refused: missing or wrong x-meshcanary-token");
    },
    onDrained: (msg, identity) => {
      const r = msg.ok ? msg.report : undefined;
      if (r && !checkReport(r, msg.size, bounds) && !reporterMismatch(identity, r.reporter!))
        ingest.noteRefused(r, identity.principal);
    },
    admit: () => (opts.serving === undefined || opts.serving() ? null : NOT_LEADER),
  });

  // Housekeeping is O(reporters + canaries), so it runs on a timer, not per report.
  const idleMs = opts.reporterIdleMs ?? 10 * 60 * 1000;
  const liveMs = opts.liveReporterMs ?? 10_000;
  const sweep = setInterval(() => {
    ingest.evictIdle(now(), idleMs);
    groups.retain((namespace, pod) => ingest.has(namespace, pod));
    windows.expireAll(now());
  }, 60_000);
  sweep.unref();

  return {
    port: grpcServer.port,
    reader: {
      series: (canary, fromMs, toMs) => windows.series(canary, fromMs, toMs),
      routingVersions: () => ingest.routingVersions(now() - liveMs),
      reporterGroups: (canary) => groups.members(canary),
    },
    publish: (d) => directives.publish(d),
    stats: () => ({
      ...counts,
      rejected: { ...rejected },
      droppedEntries: { ...droppedEntries },
      refusedStreams: { ...refusedStreams },
      streams: grpcServer.streams(),
      reporters: ingest.size(),
    }),
    stopServing: () => {
      ingest.markReturning();
      return grpcServer.drain(NOT_LEADER);
    },
    close: async () => {
      clearInterval(sweep);
      await grpcServer.close();
    },
  };
}
