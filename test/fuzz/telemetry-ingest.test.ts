/**
 * Abuse of the telemetry ingest over real gRPC on 127.0.0.1: a message unusable as a whole ends its
 * stream with INVALID_ARGUMENT (RESOURCE_EXHAUSTED above the hard receive limit), counted and logged,
 * leaving no reporter state behind; a hostile entry is dropped and counted while the stream stays
 * open and the Report's good entry counts; an honest reporter streaming beside it keeps exact totals.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Directive,
  type Report,
  ReportSchema,
} from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { startTelemetryServer, type TelemetryServer } from "../../controller/telemetry/index.js";
import { makeReport, type TotalsSpec } from "../telemetry/fixtures.js";
import { connectRaw, type RawConn, seriesTotal } from "../telemetry/raw-client.js";

const TOKEN = "fuzz-token";
const MAX_BYTES = 256 * 1024;
let server: TelemetryServer;
let client: grpc.Client;
const logLines: Array<{ msg: string; reason?: string }> = [];
const streams: grpc.ClientDuplexStream<Buffer, Directive>[] = [];

beforeAll(async () => {
  const logger = pino(
    { level: "info" },
    { write: (line: string) => void logLines.push(JSON.parse(line) as { msg: string; reason?: string }) },
  );
  server = await startTelemetryServer({
    address: "127.0.0.1:0",
    token: TOKEN,
    isKnownCanary: (id) => id.startsWith("ns/") || id.startsWith("other/"),
    bounds: { maxMessageBytes: MAX_BYTES },
    logger,
  });
  client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  for (const s of streams) s.cancel();
  client.close();
  await server.close();
});

type Conn = RawConn;

function connect(): Conn {
  const conn = connectRaw(client, TOKEN, 10_000);
  streams.push(conn.stream);
  return conn;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function total(canary: string, variant: string, field: "requests" | "failures" = "requests"): number {
  return seriesTotal(server.reader, canary, variant, field);
}

/** The honest reporter: one stream, cumulative totals growing by 7 requests (1 failure) per report. */
const honest = { conn: undefined as Conn | undefined, seq: 0, requests: 0, failures: 0 };
async function honestReport(): Promise<void> {
  honest.conn ??= connect();
  honest.seq++;
  honest.requests += 7;
  honest.failures += 1;
  const before = server.stats().reports;
  honest.conn.send(
    makeReport({
      pod: "honest",
      instance: "h1",
      seq: honest.seq,
      totals: [
        { canary: "ns/honest", variant: "canary", requests: honest.requests, failures: honest.failures },
        { canary: "ns/honest", variant: "stable", requests: honest.requests * 2 },
      ],
    }),
  );
  await until(() => server.stats().reports > before, "the honest report");
}

function expectHonestExact(): void {
  expect(total("ns/honest", "canary")).toBe(honest.requests);
  expect(total("ns/honest", "canary", "failures")).toBe(honest.failures);
  expect(total("ns/honest", "stable")).toBe(honest.requests * 2);
}

function totals(n: number, f: (i: number) => Partial<TotalsSpec>): TotalsSpec[] {
  return Array.from({ length: n }, (_, i) => ({ requests: 1, ...f(i) }));
}

function bucketBomb(buckets: number): Report {
  const r = makeReport({ pod: "evil", seq: 1, totals: [{ canary: "ns/evil", requests: buckets }] });
  const s = r.totals[0]!.latencyUs!;
  s.count = BigInt(buckets);
  s.indexes = Array.from({ length: buckets }, (_, i) => i * 3);
  s.counts = Array.from({ length: buckets }, () => 1n);
  return r;
}

const evil = (extra: Partial<Parameters<typeof makeReport>[0]> & { totals: TotalsSpec[] }) =>
  makeReport({ pod: "evil", seq: 1, ...extra });

/** [what, the hostile message(s), gRPC code, reason counted]. */
const cases: Array<[string, () => Array<Report | Uint8Array>, grpc.status, string]> = [
  // grpc-js refuses this before the handler sees it, so no reason counter or log line (only the status).
  [
    "over the hard receive limit (2 MiB of zeros)",
    () => [new Uint8Array(MAX_BYTES + 2 * 1024 * 1024)],
    grpc.status.RESOURCE_EXHAUSTED,
    "",
  ],
  [
    "over the bounds' message limit",
    // Size is checked first: 1500 entries with 200-char names are about 600 KiB.
    () => [evil({ totals: totals(1500, (c) => ({ canary: `ns/${"c".repeat(200)}${c}` })) })],
    grpc.status.INVALID_ARGUMENT,
    "message_too_large",
  ],
  [
    "5000 variants of one canary",
    () => [evil({ totals: totals(5000, (v) => ({ canary: "ns/evil", variant: `v${v}` })) })],
    grpc.status.INVALID_ARGUMENT,
    "too_many_totals",
  ],
  [
    "3000 canaries",
    () => [evil({ totals: totals(3000, (c) => ({ canary: `ns/c${c}` })) })],
    grpc.status.INVALID_ARGUMENT,
    "too_many_totals",
  ],
  [
    "a 10k-char pod name",
    () => [evil({ pod: "p".repeat(10_000), totals: [] })],
    grpc.status.INVALID_ARGUMENT,
    "string_too_long",
  ],
  [
    "no reporter",
    () => [create(ReportSchema, { seq: 1n })],
    grpc.status.INVALID_ARGUMENT,
    "missing_reporter",
  ],
  [
    "undecodable bytes",
    () => [new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])],
    grpc.status.INVALID_ARGUMENT,
    "undecodable",
  ],
];

/** A good entry every entry-level case carries beside its hostile one(s): it must count. */
const GOOD: TotalsSpec = { canary: "ns/evil-good", variant: "canary", requests: 5 };

/** A hostile entry of `seq` 1 (beside GOOD) from pod `pod`. */
function withGood(pod: string, hostile: Report["totals"][number][] | TotalsSpec[], seq = 1): Report {
  const r = makeReport({ pod, seq, totals: [{ ...GOOD, requests: GOOD.requests * seq }] });
  const extra = hostile.map((h) =>
    "latencyUs" in h ? h : makeReport({ seq, totals: [h as TotalsSpec] }).totals[0]!,
  );
  r.totals.push(...(extra as Report["totals"]));
  return r;
}

/** [what, the messages on one stream, the reason counted per dropped entry, entries dropped]. */
const entryCases: Array<[string, () => Report[], string, number]> = [
  ["bucket bomb (20k buckets)", () => [withGood("e-bomb", bucketBomb(20_000).totals)], "sketch_buckets", 1],
  [
    "9 variants of one canary",
    () => [
      withGood(
        "e-9v",
        totals(9, (v) => ({ canary: "ns/evil", variant: `v${v}` })),
      ),
    ],
    "too_many_variants",
    1,
  ],
  [
    "an unknown canary",
    () => [withGood("e-unknown", [{ canary: "nobody/x", requests: 1 }])],
    "unknown_canary",
    1,
  ],
  [
    "a counter beyond 2^53",
    () => [withGood("e-range", [{ canary: "ns/evil", requests: 2 ** 60 }])],
    "counter_range",
    1,
  ],
  [
    "more failures than requests",
    () => {
      const r = withGood("e-fail", [{ canary: "ns/evil", requests: 3 }]);
      r.totals[1]!.failures = 4n;
      return [r];
    },
    "impossible_counts",
    1,
  ],
  [
    "status classes not summing to requests",
    () => {
      const r = withGood("e-class", [{ canary: "ns/evil", requests: 3 }]);
      r.totals[1]!.status4xx = 9n;
      return [r];
    },
    "impossible_counts",
    1,
  ],
  [
    "an infinite metric sum",
    () => {
      const r = withGood("e-inf", [{ canary: "ns/evil", requests: 3, tokens: [1, 2] }]);
      r.totals[1]!.metrics[0]!.sum = Number.POSITIVE_INFINITY;
      return [r];
    },
    "bad_sum",
    1,
  ],
  [
    "counters going backwards",
    () => [
      withGood("e-bw", [{ canary: "ns/evil-bw", requests: 100 }], 1),
      withGood("e-bw", [{ canary: "ns/evil-bw", requests: 5 }], 2),
    ],
    "counter_backwards",
    1,
  ],
];

describe("telemetry ingest: hostile entries", () => {
  it.each(entryCases)(
    "%s: the entry is dropped and counted, the stream stays open, the rest counts",
    async (_what, build, reason, n) => {
      await honestReport();
      const droppedBefore = server.stats().droppedEntries[reason] ?? 0;
      const goodBefore = total("ns/evil-good", "canary");
      const evilBefore = total("ns/evil", "canary");
      const c = connect();
      const msgs = build();
      for (const m of msgs) c.send(m);
      await until(
        () => (server.stats().droppedEntries[reason] ?? 0) === droppedBefore + n,
        `dropped ${reason}`,
      );
      expect(total("ns/evil-good", "canary") - goodBefore).toBe(GOOD.requests * msgs.length);
      expect(total("ns/evil", "canary")).toBe(evilBefore);
      if (reason === "counter_backwards") expect(total("ns/evil-bw", "canary")).toBe(100);
      // The stream is still open: a later report on it counts.
      const rep = msgs[0]!.reporter!;
      const seq = msgs.length + 1;
      c.send(makeReport({ pod: rep.pod, seq, totals: [{ ...GOOD, requests: GOOD.requests * seq }] }));
      await until(
        () => total("ns/evil-good", "canary") - goodBefore === GOOD.requests * seq,
        "the later report",
      );
      const logged = logLines.filter(
        (l) => l.reason === reason && l.msg === "telemetry report entry dropped",
      );
      if (reason !== "unknown_canary") expect(logged.length).toBeGreaterThan(0);
      c.stream.cancel();
      await honestReport();
      expectHonestExact();
    },
  );

  it("reports for canaries of other namespaces count, from callers anywhere and the ingress gateway", async () => {
    const before = total("other/app", "canary");
    const reporters = [
      ["istio-system", "istio-ingressgateway-1"],
      ["team-a", "caller-a"],
      ["ns", "caller-ns"],
    ] as const;
    for (const [i, [namespace, pod]] of reporters.entries()) {
      const c = connect();
      c.send(makeReport({ namespace, pod, seq: 1, totals: [{ canary: "other/app", requests: 4 }] }));
      await until(() => total("other/app", "canary") === before + 4 * (i + 1), pod);
      c.stream.cancel();
    }
    expect(server.stats().droppedEntries.foreign_namespace).toBeUndefined();
  });
});

describe("telemetry ingest under abuse", () => {
  it.each(cases)("%s: refused, counted, logged; nothing else changes", async (_what, build, code, reason) => {
    await honestReport();
    const reportersBefore = server.stats().reporters;
    const countedBefore = server.stats().rejected[reason] ?? 0;
    const loggedBefore = logLines.filter((l) => l.reason === reason).length;
    const c = connect();
    for (const m of build()) c.send(m);
    const st = await c.status;
    expect(st.code).toBe(code);
    if (reason !== "") {
      await until(() => (server.stats().rejected[reason] ?? 0) === countedBefore + 1, `counter ${reason}`);
      const logged = logLines.filter((l) => l.reason === reason && l.msg === "telemetry report rejected");
      expect(logged).toHaveLength(loggedBefore + 1);
      expect(st.metadata.get("x-meshcanary-reason")).toEqual([reason]);
    }
    // A refused report leaves no state behind.
    expect(server.stats().reporters).toBe(reportersBefore);
    expect(total("ns/evil", "canary")).toBe(0);
    await honestReport();
    expectHonestExact();
  });

  it("random bytes: every stream ends with INVALID_ARGUMENT and nothing is ingested", async () => {
    let seed = 7;
    const byte = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed >>> 16;
    };
    const before = server.stats();
    for (let round = 0; round < 40; round++) {
      const bytes = Uint8Array.from({ length: 1 + (byte() % 2000) }, () => byte() & 0xff);
      const c = connect();
      c.send(bytes);
      const st = await c.status;
      expect(st.code, `round ${round}`).toBe(grpc.status.INVALID_ARGUMENT);
    }
    const after = server.stats();
    const refused = (s: typeof after) => Object.values(s.rejected).reduce((a, b) => a + b, 0);
    expect(refused(after) - refused(before)).toBe(40);
    expect(after.accepted).toBe(before.accepted);
    expect(after.reporters).toBe(before.reporters);
    await honestReport();
    expectHonestExact();
  }, 20_000);

  it("10k tiny reports in a burst from one stream: exact totals, bounded heap, honest reporter exact", async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const c = connect();
    const before = server.stats().reports;
    const reportersBefore = server.stats().reporters;
    const n = 10_000;
    for (let seq = 1; seq <= n; seq++) {
      c.send(
        makeReport({
          pod: "burst",
          instance: "b1",
          seq,
          totals: [{ canary: "ns/burst", requests: seq * 3 }],
        }),
      );
    }
    await until(() => server.stats().reports >= before + n, "the burst to be handled");
    expect(total("ns/burst", "canary")).toBe(n * 3);
    // Replaying the whole burst (duplicates) adds nothing.
    for (let seq = 1; seq <= n; seq += 100) {
      c.send(
        makeReport({
          pod: "burst",
          instance: "b1",
          seq,
          totals: [{ canary: "ns/burst", requests: seq * 3 }],
        }),
      );
    }
    await until(() => server.stats().reports >= before + n + 100, "the replay to be handled");
    expect(total("ns/burst", "canary")).toBe(n * 3);
    expect(server.stats().reporters).toBe(reportersBefore + 1);
    // Generous: the burst's windows and the reporter state are small; 10k retained Reports would not be.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    await honestReport();
    expectHonestExact();
  }, 25_000);

  it("a flood of hostile streams leaves the heap bounded", async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    // Each stream: a bucket bomb (its entry dropped, the stream kept), then a message with too many
    // entries, which ends it.
    const big = toBinary(ReportSchema, bucketBomb(20_000));
    const unusable = toBinary(
      ReportSchema,
      evil({ totals: totals(600, (v) => ({ canary: "ns/evil", variant: `v${v}` })) }),
    );
    for (let wave = 0; wave < 5; wave++) {
      const conns = Array.from({ length: 20 }, () => connect());
      for (const c of conns) {
        c.send(big);
        c.send(unusable);
      }
      for (const c of await Promise.all(conns.map((c) => c.status)))
        expect(c.code).toBe(grpc.status.INVALID_ARGUMENT);
    }
    expect(server.stats().streams).toBeLessThanOrEqual(3);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(128 * 1024 * 1024);
    await honestReport();
    expectHonestExact();
  }, 25_000);
});
