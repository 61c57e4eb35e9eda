// The proxy's reporting state as stored in shared data (`meshcanary.state`): one flags byte, then a
// protobuf Report holding the reporter identity (instance id, start time), the last sequence number
// used, the cumulative totals and counters, and as `baseline` the totals of the last report known
// delivered. Keeping them in one value makes every report a consistent snapshot, and lets a new lease
// holder continue the sequence and send the right baseline. Pure.

import { decodeReport, encodeReport } from "./report";
import { ReportData } from "./wire";

/** Flag bit: a report of this instance is known to have reached a controller. */
export const FLAG_DELIVERED: u8 = 1;

/** Decoded shared state. */
export class ProxyState {
  flags: u8 = 0;
  report: ReportData = new ReportData();

  delivered(): bool {
    return (this.flags & FLAG_DELIVERED) != 0;
  }
}

/** A fresh state for a new instance. */
export function newProxyState(instanceId: string, startMs: i64): ProxyState {
  const s = new ProxyState();
  s.report.reporter.instanceId = instanceId;
  s.report.reporter.startTimeUnixMs = startMs;
  return s;
}

/** State → bytes. */
export function encodeProxyState(s: ProxyState): ArrayBuffer {
  const body = encodeReport(s.report);
  const out = new ArrayBuffer(body.byteLength + 1);
  store<u8>(changetype<usize>(out), s.flags);
  memory.copy(changetype<usize>(out) + 1, changetype<usize>(body), <usize>body.byteLength);
  return out;
}

/** Bytes → state, or null when malformed. */
export function decodeProxyState(bytes: ArrayBuffer): ProxyState | null {
  if (bytes.byteLength < 1) return null;
  const body = bytes.slice(1);
  const report = decodeReport(body);
  if (report == null || report.reporter.instanceId.length == 0) return null;
  const s = new ProxyState();
  s.flags = load<u8>(changetype<usize>(bytes));
  s.report = report;
  return s;
}

/**
 * The seq for the next report. Until one report is known delivered the first report is resent as
 * seq 1: the controller counts a new instance from zero only on seq 1 (a later seq is taken as a
 * baseline after a controller restart), and it ignores a repeated seq, so nothing is lost or doubled.
 */
export function nextSeq(s: ProxyState): u64 {
  if (!s.delivered()) return 1;
  return s.report.seq + 1;
}
