/**
 * Clock jumps. The controller windows by its own receive time, so a reporter's sent_unix_ms far in the
 * future or past changes nothing; a reporter whose clock stepped back across a restart still counts;
 * and the controller's own clock stepping back keeps every window and total exact.
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Directive,
  DirectiveSchema,
  type Report,
  ReportSchema,
} from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { startTelemetryServer, type TelemetryServer } from "../../controller/telemetry/index.js";
import { Ingest } from "../../controller/telemetry/ingest.js";
import { CONNECT_PATH } from "../../controller/telemetry/server.js";
import { makeReport } from "../telemetry/fixtures.js";

const YEAR_MS = 365 * 24 * 3600 * 1000;
/** The controller's receive clock, moved by the tests. */
let clockMs = Date.UTC(2030, 0, 1);
let server: TelemetryServer;
let client: grpc.Client;
let stream: grpc.ClientDuplexStream<Buffer, Directive>;
let ended: grpc.StatusObject | undefined;

beforeAll(async () => {
  server = await startTelemetryServer({ isKnownCanary: () => true, now: () => clockMs });
  client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  stream = client.makeBidiStreamRequest<Buffer, Directive>(
    CONNECT_PATH,
    (b) => b,
    (b) => fromBinary(DirectiveSchema, b),
  );
  stream.on("data", () => undefined);
  stream.on("error", () => undefined);
  stream.on("status", (s: grpc.StatusObject) => {
    ended = s;
  });
});
afterAll(async () => {
  stream.cancel();
  client.close();
  await server.close();
});

async function send(r: Report): Promise<void> {
  const before = server.stats().reports;
  stream.write(Buffer.from(toBinary(ReportSchema, r)));
  for (let i = 0; i < 500 && server.stats().reports === before; i++)
    await new Promise((res) => setTimeout(res, 10));
  expect(ended).toBeUndefined();
}

/** Requests per window start, for one canary. */
function windows(canary: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of server.reader.series(canary, 0, Number.MAX_SAFE_INTEGER))
    out.set(p.startMs, p.variants.get("canary")?.requests ?? 0);
  return out;
}

describe("reporter clock far off", () => {
  it.each([
    ["ten years ahead", (now: number) => now + 10 * YEAR_MS],
    ["ten years behind", (now: number) => now - 10 * YEAR_MS],
    ["zero", () => 0],
    ["the most negative int64", () => -1],
  ])("sent_unix_ms %s: counted in the window it arrived in", async (what, sentAt) => {
    const canary = `ns/skew-${what.replaceAll(" ", "-")}`;
    const pod = `skew-${what.replaceAll(" ", "-")}`;
    const at = clockMs;
    for (let seq = 1; seq <= 3; seq++) {
      const r = makeReport({ pod, seq, totals: [{ canary, requests: seq * 10 }] });
      const sent = sentAt(at);
      r.sentUnixMs = sent < 0 ? -(2n ** 63n) : BigInt(sent);
      await send(r);
      clockMs += 1000;
    }
    expect([...windows(canary).entries()]).toEqual([
      [at, 10],
      [at + 1000, 10],
      [at + 2000, 10],
    ]);
  });
});

describe("controller clock stepping back", () => {
  // A step back longer than the window history (30 min) would expire what arrived meanwhile once the
  // clock is corrected; NTP-sized steps lose nothing.
  it("keeps windows ordered and totals exact when receive time steps back 5 s and forward again", async () => {
    const canary = "ns/stepback";
    const start = clockMs;
    const plan = [0, 1000, -5000, -4000, 2000, 3000];
    for (let i = 0; i < plan.length; i++) {
      clockMs = start + plan[i]!;
      await send(makeReport({ pod: "stepback", seq: i + 1, totals: [{ canary, requests: (i + 1) * 5 }] }));
    }
    clockMs = start + 4000;
    const got = windows(canary);
    expect([...got.keys()]).toEqual([...got.keys()].sort((a, b) => a - b));
    expect([...got.values()].reduce((a, b) => a + b, 0)).toBe(plan.length * 5);
    expect(got.get(start - 5000)).toBe(5);
    expect(got.get(start + 3000)).toBe(5);
  });
});

describe("reporter clock stepped back across a proxy restart", () => {
  it("counts the new instance from zero instead of ignoring it as a straggler", () => {
    const ingest = new Ingest();
    const canary = "ns/restart";
    const first = makeReport({
      pod: "p",
      instance: "old",
      startMs: 5_000_000,
      seq: 1,
      totals: [{ canary, requests: 40 }],
    });
    expect(ingest.apply(first, 1).kind).toBe("accepted");
    // The node's clock stepped back: the new proxy's start time is before the old one's.
    const restarted = makeReport({
      pod: "p",
      instance: "new",
      startMs: 4_000_000,
      seq: 1,
      totals: [{ canary, requests: 7 }],
    });
    const res = ingest.apply(restarted, 2);
    expect(res.kind).toBe("accepted");
    expect(res.kind === "accepted" && res.deltas.map((d) => d.stats.requests)).toEqual([7]);
    const next = makeReport({
      pod: "p",
      instance: "new",
      startMs: 4_000_000,
      seq: 2,
      totals: [{ canary, requests: 9 }],
    });
    const res2 = ingest.apply(next, 3);
    expect(res2.kind === "accepted" && res2.deltas.map((d) => d.stats.requests)).toEqual([2]);
    // A late report of the old instance stays ignored.
    const straggler = makeReport({
      pod: "p",
      instance: "old",
      startMs: 5_000_000,
      seq: 2,
      totals: [{ canary, requests: 50 }],
    });
    expect(ingest.apply(straggler, 4)).toMatchObject({ kind: "ignored", reason: "stale_instance" });
  });

  it("still ignores a never-seen older instance's later report (a straggler, not a restart)", () => {
    const ingest = new Ingest();
    const canary = "ns/straggler";
    ingest.apply(
      makeReport({ pod: "q", instance: "b", startMs: 9_000, seq: 1, totals: [{ canary, requests: 3 }] }),
      1,
    );
    const late = makeReport({
      pod: "q",
      instance: "a",
      startMs: 1_000,
      seq: 40,
      totals: [{ canary, requests: 900 }],
    });
    expect(ingest.apply(late, 2)).toMatchObject({ kind: "ignored", reason: "stale_instance" });
  });
});
