/**
 * A flood of adversarial reports straight at the leader's telemetry port, from many made-up pods:
 * every entry names a live Canary but is impossible (more failures than requests, a counter past
 * 2^53, a non-finite metric sum, that one also a duplicate of the 2^53 entry's variant, so it is
 * dropped as such) or names a Canary nobody runs, and every fifth stream sends bytes
 * that are no Report at all. The reports acknowledge the newest Directive, so the flood cannot
 * stall the rollouts' propagation check either; it must change no count and no decision.
 */
import * as grpc from "@grpc/grpc-js";
import type { Report } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { makeReport } from "../telemetry/fixtures.js";
import { connectRaw, type RawConn } from "../telemetry/raw-client.js";

export interface Flood {
  /** Reports sent so far, and streams the server ended (undecodable ones are expected to end). */
  stats(): { reports: number; garbage: number; streamsEnded: number; entryStreamsEnded: number };
  stop(): void;
}

/** Impossible entries for each live canary id, plus one for a canary that does not exist. */
function hostileReport(pod: string, seq: number, live: readonly string[], routingVersion: number): Report {
  const r = makeReport({
    pod,
    namespace: "team-x",
    instance: `${pod}-i`,
    seq,
    routingVersion,
    totals: [
      ...live.map((canary) => ({ canary, variant: "canary", requests: 5 * seq })),
      ...live.slice(0, 1).map((canary) => ({ canary, variant: "stable", requests: 2 ** 60 })),
      { canary: "default/nobody", variant: "canary", requests: seq },
    ],
  });
  // More failures than requests (status classes still sum to requests, so only that is wrong).
  for (const t of r.totals.filter((x) => x.variant === "canary")) t.failures = t.requests * 2n;
  if (live[0] !== undefined) {
    const nan = makeReport({
      seq,
      totals: [{ canary: live[0], variant: "stable", requests: seq, tokens: [1] }],
    }).totals[0]!;
    nan.metrics[0]!.sum = Number.NaN;
    r.totals.push(nan);
  }
  return r;
}

export function startFlood(address: string, live: () => string[], streams = 6, everyMs = 25): Flood {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  let reports = 0;
  let garbage = 0;
  let streamsEnded = 0;
  let entryStreamsEnded = 0;
  let stopped = false;
  const conns: RawConn[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (let k = 0; k < streams; k++) {
    const undecodable = k % 5 === 4;
    let conn = connectRaw(client, null, 3_600_000);
    let seq = 0;
    const watch = (c: RawConn): void => {
      c.status
        .then((st) => {
          streamsEnded++;
          // A replica that stops leading ends every stream (UNAVAILABLE); the peer reconnects.
          if (undecodable || stopped) return;
          if (st.code !== grpc.status.UNAVAILABLE) entryStreamsEnded++;
          else {
            conn = connectRaw(client, null, 3_600_000);
            watch(conn);
            conns.push(conn);
          }
        })
        .catch(() => undefined);
    };
    watch(conn);
    conns.push(conn);
    timers.push(
      setInterval(() => {
        if (undecodable) {
          // Unusable as a whole: the server ends the stream; the hostile peer simply reconnects.
          conn.stream.cancel();
          conn = connectRaw(client, null, 3_600_000);
          watch(conn);
          conns.push(conn);
          conn.send(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
          garbage++;
          return;
        }
        seq++;
        const version = Number(conn.directives.at(-1)?.version ?? 0n);
        conn.send(hostileReport(`flood-${k}`, seq, live().slice(0, 8), version));
        reports++;
      }, everyMs),
    );
  }
  return {
    stats: () => ({ reports, garbage, streamsEnded, entryStreamsEnded }),
    stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      for (const c of conns) c.stream.cancel();
      client.close();
    },
  };
}
