/**
 * The telemetry server over real gRPC on 127.0.0.1 with a @grpc/grpc-js client sending encoded Reports.
 */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { DirectiveSchema, type Report } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { telemetryOverGrpc, until } from "./grpc-harness.js";
import { makeReport } from "./fixtures.js";
import { type RawConn, seriesTotal } from "./raw-client.js";

const TOKEN = "s3cret";
const t = telemetryOverGrpc({
  token: TOKEN,
  isKnownCanary: (id) => id.startsWith("ns/"),
  bounds: { maxMessageBytes: 16 * 1024 },
});

type Conn = RawConn;

function connect(token: string | null = TOKEN): Conn {
  return t.connect(token);
}

function total(canary: string, variant: string, field: "requests" | "failures" = "requests"): number {
  return seriesTotal(t.server.reader, canary, variant, field);
}

const sendAll = (c: Conn, reports: Report[]) => t.sendAll(c, reports);

describe("telemetry server", () => {
  it("totals equal the sum of deltas; duplicates and reorders add nothing", async () => {
    const a = connect();
    const b = connect();
    const rep = (pod: string, seq: number, requests: number, failures: number) =>
      makeReport({ pod, seq, totals: [{ canary: "ns/sum", requests, failures, latenciesUs: [100] }] });
    await sendAll(a, [rep("a", 1, 10, 1), rep("a", 2, 30, 2), rep("a", 2, 30, 2), rep("a", 4, 70, 5)]);
    await sendAll(b, [rep("b", 1, 5, 0), rep("b", 3, 9, 1), rep("b", 2, 7, 0), rep("b", 4, 12, 1)]);
    await sendAll(a, [rep("a", 3, 50, 3)]);
    expect(total("ns/sum", "canary")).toBe(70 + 12);
    expect(total("ns/sum", "canary", "failures")).toBe(5 + 1);
    expect(t.server.stats().ignored).toBeGreaterThanOrEqual(3);
  });

  it("a proxy restart (new instance id) loses and doubles nothing", async () => {
    const c = connect();
    const rep = (instance: string, startMs: number, seq: number, requests: number) =>
      makeReport({ pod: "r", instance, startMs, seq, totals: [{ canary: "ns/restart", requests }] });
    await sendAll(c, [rep("old", 1000, 1, 10), rep("old", 1000, 2, 40)]);
    await sendAll(c, [rep("new", 2000, 1, 6), rep("old", 1000, 3, 45), rep("new", 2000, 2, 8)]);
    expect(total("ns/restart", "canary")).toBe(40 + 8);
  });

  it("a dropped stream then reconnect continues the same instance", async () => {
    const rep = (seq: number, requests: number) =>
      makeReport({ pod: "d", seq, totals: [{ canary: "ns/drop", requests }] });
    const first = connect();
    await sendAll(first, [rep(1, 10), rep(2, 20)]);
    first.stream.cancel();
    await until(() => t.server.stats().streams === 0, "stream to close");
    const second = connect();
    await sendAll(second, [rep(2, 20), rep(3, 33)]);
    expect(total("ns/drop", "canary")).toBe(33);
  });

  it("sends the directive on connect and on publish to every stream", async () => {
    expect(t.server.publish(create(DirectiveSchema, { version: 10n }))).toBeUndefined();
    const a = connect();
    const b = connect();
    await until(() => a.directives.length === 1 && b.directives.length === 1, "directive on connect");
    expect(t.server.publish(create(DirectiveSchema, { version: 9n }))).toBeInstanceOf(Error);
    const d = create(DirectiveSchema, {
      version: 11n,
      routes: [{ host: "web", canary: "ns/web", variants: [{ name: "stable", weightBp: 10000 }] }],
    });
    expect(t.server.publish(d)).toBeUndefined();
    await until(() => a.directives.length === 2 && b.directives.length === 2, "published directive");
    expect(a.directives.map((x) => x.version)).toEqual([10n, 11n]);
    expect(b.directives[1]!.routes[0]!.canary).toBe("ns/web");
    await until(() => t.server.stats().streams === 2, "stream count");
  });

  const bad: [string, () => Report | Uint8Array, string][] = [
    [
      "oversized",
      () =>
        makeReport({
          pod: "x",
          seq: 1,
          // 5 entries x 3000 distinct buckets: about 45 KiB, over the 16 KiB limit set above.
          totals: Array.from({ length: 5 }, (_, v) => ({
            canary: "ns/bad",
            variant: `v${v}`,
            requests: 1,
            latenciesUs: Array.from({ length: 3000 }, (_, i) => 1.0202 ** i * 1.01),
          })),
        }),
      "message_too_large",
    ],
    ["undecodable bytes", () => new Uint8Array([0x0a, 0x7f, 0x01]), "undecodable"],
  ];

  it.each(bad)("%s: INVALID_ARGUMENT, while another stream keeps working", async (_name, build, reason) => {
    const good = connect();
    const evil = connect();
    const rejectedBefore = t.server.stats().rejected[reason] ?? 0;
    evil.send(build());
    const st = await evil.status;
    expect(st.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(st.metadata.get("x-meshcanary-reason")).toEqual([reason]);
    expect(t.server.stats().rejected[reason]).toBe(rejectedBefore + 1);
    const canary = `ns/alive-${reason}`;
    await sendAll(good, [
      makeReport({ pod: "g", instance: reason, seq: 1, totals: [{ canary, requests: 3 }] }),
    ]);
    expect(total(canary, "canary")).toBe(3);
  });

  it("drops an entry going backwards or of an unknown canary, counts the rest, keeps the stream open", async () => {
    const c = connect();
    const rep = (seq: number, bw: number, other: number) =>
      makeReport({
        pod: "bw",
        seq,
        totals: [
          { canary: "ns/bw", requests: bw },
          { canary: "zz/nope", requests: 1 },
          { canary: "ns/bw-other", requests: other },
        ],
      });
    const before = t.server.stats().droppedEntries;
    await sendAll(c, [rep(1, 10, 1), rep(2, 4, 3), rep(3, 12, 6)]);
    expect(total("ns/bw", "canary")).toBe(12);
    expect(total("ns/bw-other", "canary")).toBe(6);
    const after = t.server.stats().droppedEntries;
    expect(after.counter_backwards! - (before.counter_backwards ?? 0)).toBe(1);
    expect(after.unknown_canary! - (before.unknown_canary ?? 0)).toBe(3);
    expect(t.server.stats().streams).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ["wrong", "nope"],
    ["missing", null],
  ])("refuses a %s token with UNAUTHENTICATED", async (_name, token) => {
    const c = connect(token);
    const st = await c.status;
    expect(st.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it("tracks each reporter's routing version", async () => {
    const c = connect();
    await sendAll(c, [makeReport({ pod: "rv", seq: 1, routingVersion: 11, totals: [] })]);
    expect(t.server.reader.routingVersions().get("ns/rv")).toBe(11);
  });
});
