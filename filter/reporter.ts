// Reporting to the controller (DESIGN §3 "Reporting"): one worker per proxy holds the reporter lease
// and keeps a `meshcanary.v1.Telemetry/Connect` stream open, sending the proxy's cumulative Report
// every interval. Failures (unknown cluster, refused stream, remote close) only schedule a reconnect
// with backoff; nothing on the request path ever waits for this.

import { GRPC_RECEIVE_BUFFER } from "./abi/enums";
import { proxy_grpc_cancel, proxy_grpc_send, proxy_grpc_stream, proxy_get_buffer_bytes } from "./abi/imports";
import { OUT_ID, OUT_PTR, OUT_SIZE, release, resetOut } from "./abi/memory";
import { BACKOFF_MAX_MS, backoffDelayMs } from "./backoff";
import { ControllerConfig } from "./config";
import {
  LOG_DEBUG,
  LOG_INFO,
  LOG_WARN,
  NOT_FOUND,
  OK,
  envVar,
  getShared,
  getStringProperty,
  log,
  randomHex,
  randomU32,
  setShared,
} from "./host-io";
import { formatLease, mayTakeLease, parseLease } from "./lease";
import { encodePairs } from "./pairs";
import { Writer } from "./protobuf";
import { encodeReport } from "./report";
import { markDelivered, takeReport } from "./shared-tallies";
import { ReportData, VariantTotalsData } from "./wire";

/** Shared-data key of the reporter lease. */
export const LEASE_KEY = "meshcanary.lease";
/** A lease not renewed for this many intervals expires. */
const LEASE_INTERVALS: i64 = 3;
/** Filter build version sent in every Report. */
export const FILTER_VERSION = "0.1.0";
const SERVICE = String.UTF8.encode("meshcanary.v1.Telemetry");
const METHOD = String.UTF8.encode("Connect");
/** gRPC status of a normal close. */
const GRPC_OK: u32 = 0;

/** Canary ids of the applied routing table (null until one is known), for forgetting old canaries. */
let routed: Set<string> | null = null;

/** Tells the reporter the canaries of the routing table now applied. */
export function reporterRouted(canaries: Set<string>): void {
  routed = canaries;
}

/** This VM's id in the lease (random per VM instance). */
let holderId: string = "";
/** Open stream token (0 = none) and the root context that owns it. */
let streamToken: u32 = 0;
let streamRoot: u32 = 0;
/** A report was sent on the open stream since it was opened (confirmed if it is still open a tick later). */
let sentOnStream: bool = false;
/** The last report sent on the open stream (null = none): the one a confirmation confirms. */
let lastSent: ReportData | null = null;
/** Reconnect state. */
let attempt: u32 = 0;
let nextAttemptMs: i64 = 0;
/** When this VM last sent a report (several roots per VM tick; one report per interval). */
let lastReportMs: i64 = -1;
/** Node metadata, read once it is available. */
let pod: string = "";
let namespace: string = "";
let workload: string = "";
/** Stream metadata, built once per configuration of the token env. */
let metadataEnv: string | null = null;
let metadata: ArrayBuffer = encodePairs([], []);

/** Whether this VM holds the lease and has a stream open. */
export function isReporting(): bool {
  return streamToken != 0;
}

/** The token of this VM's controller stream (0 = none). */
export function streamTokenOf(): u32 {
  return streamToken;
}

function myId(): string {
  if (holderId.length == 0) holderId = randomHex(2);
  return holderId;
}

/** Acquires or renews the lease when free, expired or ours; returns whether this VM holds it. */
function holdLease(now: i64, intervalMs: u32): bool {
  const cur = getShared(LEASE_KEY);
  if (cur.result != OK && cur.result != NOT_FOUND) return false;
  const lease = cur.result == OK ? parseLease(String.UTF8.decode(cur.value)) : null;
  const term = LEASE_INTERVALS * <i64>intervalMs;
  if (!mayTakeLease(lease, myId(), now, term)) return false;
  const value = String.UTF8.encode(formatLease(myId(), now + term));
  if (setShared(LEASE_KEY, value, cur.cas) != OK) return false;
  if (cur.result == OK) return true;
  // First writer (cas 0 is unconditional): confirm nobody raced us to it.
  const check = getShared(LEASE_KEY);
  if (check.result != OK) return false;
  const mine = parseLease(String.UTF8.decode(check.value));
  return mine != null && mine.holder == myId();
}

/** One reporting step on a root's tick. */
export function reporterTick(root: u32, controller: ControllerConfig, intervalMs: u32, now: i64, routingVersion: u64): void {
  if (lastReportMs >= 0 && now - lastReportMs < <i64>(intervalMs / 2) && now >= lastReportMs) return;
  if (!holdLease(now, intervalMs)) {
    if (streamToken != 0) {
      log(LOG_INFO, "meshcanary: reporter lease moved to another worker; closing stream");
      dropStream(true);
    }
    return;
  }
  if (streamToken != 0 && sentOnStream) {
    // The stream outlived a whole interval after a send: the controller is there.
    markDelivered(lastSent);
    attempt = 0;
  }
  if (streamToken == 0) {
    // A retry time beyond the backoff cap was set before the wall clock jumped back: retry now.
    if (now < nextAttemptMs && nextAttemptMs - now <= <i64>BACKOFF_MAX_MS) return;
    if (!openStream(root, controller)) {
      scheduleRetry(now);
      return;
    }
  }
  sendReport(now, routingVersion);
}

function openStream(root: u32, controller: ControllerConfig): bool {
  const service = grpcService(controller.cluster, controller.authority);
  const md = streamMetadata(controller.tokenEnv);
  store<u32>(OUT_ID, 0);
  const r = proxy_grpc_stream(
    changetype<usize>(service),
    <usize>service.byteLength,
    changetype<usize>(SERVICE),
    <usize>SERVICE.byteLength,
    changetype<usize>(METHOD),
    <usize>METHOD.byteLength,
    changetype<usize>(md),
    <usize>md.byteLength,
    OUT_ID,
  );
  if (r != OK) {
    log(LOG_WARN, "meshcanary: cannot open controller stream on " + controller.cluster + " (result " + r.toString() + ")");
    return false;
  }
  streamToken = load<u32>(OUT_ID);
  streamRoot = root;
  sentOnStream = false;
  lastSent = null;
  log(LOG_DEBUG, "meshcanary: controller stream opened");
  return streamToken != 0;
}

/** A serialized envoy.config.core.v3.GrpcService{envoy_grpc{cluster_name, authority}} (contract §9.2). */
export function grpcService(cluster: string, authority: string): ArrayBuffer {
  const w = new Writer(128);
  w.begin(1);
  w.stringField(1, cluster);
  w.stringField(2, authority);
  w.end();
  const out = w.finish();
  w.dispose();
  return out;
}

function streamMetadata(tokenEnv: string): ArrayBuffer {
  if (metadataEnv != null && metadataEnv! == tokenEnv) return metadata;
  metadataEnv = tokenEnv;
  const token = tokenEnv.length > 0 ? envVar(tokenEnv) : null;
  if (tokenEnv.length > 0 && token == null) log(LOG_WARN, "meshcanary: controller.tokenEnv " + tokenEnv + " is not set");
  metadata = token != null ? encodePairs(["x-meshcanary-token"], [token]) : encodePairs([], []);
  return metadata;
}

function readIdentity(): void {
  if (pod.length == 0) pod = getStringProperty("xds\0node\0metadata\0NAME");
  if (namespace.length == 0) namespace = getStringProperty("xds\0node\0metadata\0NAMESPACE");
  if (workload.length == 0) workload = getStringProperty("xds\0node\0metadata\0WORKLOAD_NAME");
}

function sendReport(now: i64, routingVersion: u64): void {
  const report = takeReport(routed);
  if (report == null) return;
  readIdentity();
  report.reporter.pod = pod;
  report.reporter.namespace = namespace;
  report.reporter.workload = workload;
  report.reporter.filterVersion = FILTER_VERSION;
  report.sentUnixMs = now;
  report.routingVersion = routingVersion;
  // Only a new stream's first report carries the baseline: it matters only to a controller that has
  // not seen this instance, and a stream's later reports go to the controller that got the first.
  if (sentOnStream) report.baseline = new Array<VariantTotalsData>();
  const bytes = encodeReport(report);
  const r = proxy_grpc_send(streamToken, changetype<usize>(bytes), <usize>bytes.byteLength, 0);
  if (r != OK) {
    log(LOG_WARN, "meshcanary: controller stream send failed (result " + r.toString() + ")");
    dropStream(false);
    scheduleRetry(now);
    return;
  }
  sentOnStream = true;
  lastSent = report;
  lastReportMs = now;
}

function scheduleRetry(now: i64): void {
  nextAttemptMs = now + <i64>backoffDelayMs(attempt, randomU32());
  if (attempt < 16) attempt++;
}

function dropStream(cancel: bool): void {
  if (cancel && streamToken != 0) proxy_grpc_cancel(streamToken);
  streamToken = 0;
  streamRoot = 0;
  sentOnStream = false;
  lastSent = null;
}

/** A message on a gRPC token: the Directive bytes if it is our stream, else null. */
export function reporterReceive(token: u32, size: u32): ArrayBuffer | null {
  if (token != streamToken || streamToken == 0) return null;
  markDelivered(lastSent);
  attempt = 0;
  resetOut();
  const r = proxy_get_buffer_bytes(GRPC_RECEIVE_BUFFER, 0, size, OUT_PTR, OUT_SIZE);
  const ptr = load<u32>(OUT_PTR);
  if (r != OK) {
    release(ptr);
    return null;
  }
  const n = load<u32>(OUT_SIZE);
  const out = new ArrayBuffer(<i32>n);
  if (ptr != 0 && n > 0) memory.copy(changetype<usize>(out), ptr, n);
  release(ptr);
  return out;
}

/** The stream ended remotely (or failed to connect): reconnect after a backoff. */
export function reporterClose(token: u32, status: u32, now: i64): void {
  if (token != streamToken || streamToken == 0) return;
  log(
    status == GRPC_OK ? LOG_INFO : LOG_WARN,
    "meshcanary: controller stream closed (grpc status " + status.toString() + "); reconnecting with backoff",
  );
  dropStream(false);
  scheduleRetry(now);
}

/** The root owning the stream is going away; the host cancels its streams. */
export function reporterRootDeleted(root: u32): void {
  if (root == streamRoot) dropStream(false);
}
