/**
 * A replica that stopped leading (TelemetryServer.stopServing), over real gRPC: each stream it held
 * ends at its next Report without counting it, or once silent for twice its gap between Reports;
 * streams opened afterwards are served; a reporter coming back is counted from its stream's
 * baseline when another replica counted past the totals this one held, else from those totals.
 */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { DirectiveSchema, type Report } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { telemetryOverGrpc, until } from "./grpc-harness.js";
import { makeReport } from "./fixtures.js";
import { type RawConn, seriesTotal } from "./raw-client.js";

let serving = true;
const t = telemetryOverGrpc({ isKnownCanary: (id) => id.startsWith("ns/"), serving: () => serving });
afterEach(() => {
  serving = true;
});

function connect(): RawConn {
  return t.connect(null, 10_000);
}

const report = (pod: string, seq: number, requests: number, baseline?: number) =>
  makeReport({
    pod,
    seq,
    totals: [{ canary: "ns/app", requests }],
    ...(baseline === undefined ? {} : { baseline: [{ canary: "ns/app", requests: baseline }] }),
  });
const counted = () => seriesTotal(t.server.reader, "ns/app", "canary");

/** A new stream sending `reports`; resolves once the count reached `total`, and stayed there. */
async function streamCounted(reports: Report[], total: number): Promise<RawConn> {
  const c = connect();
  for (const r of reports) c.send(r);
  await until(() => counted() >= total, `a count of ${total}`);
  await new Promise((r) => setTimeout(r, 50));
  expect(counted()).toBe(total);
  return c;
}

/** This replica stops serving, refuses `stream`'s next Report (`refused`) uncounted, and serves again. */
async function awayAndBack(stream: RawConn, refused: Report): Promise<void> {
  serving = false;
  t.server.stopServing();
  const before = counted();
  stream.send(refused);
  expect((await stream.status).code).toBe(grpc.status.UNAVAILABLE);
  expect(counted()).toBe(before);
  serving = true;
}

describe("stopServing", () => {
  it("ends a stream at its next report, uncounted; a silent one after twice its gap", async () => {
    const before = counted();
    const talker = connect();
    const silent = connect();
    talker.send(report("talker", 1, 10));
    silent.send(report("silent", 1, 4));
    await new Promise((r) => setTimeout(r, 100));
    silent.send(report("silent", 2, 6));
    await until(() => counted() === before + 16, "both streams counted");
    expect(t.server.stats().streams).toBe(2);

    serving = false;
    expect(t.server.stopServing()).toBe(2);
    // A pass still running on the ex-leader publishes: no drained stream gets it.
    expect(t.server.publish(create(DirectiveSchema, { version: 7n }))).toBeUndefined();
    talker.send(report("talker", 2, 25));
    const ended = await talker.status;
    expect(ended).toMatchObject({ code: grpc.status.UNAVAILABLE, details: "not the leader; reconnect" });
    expect(counted()).toBe(before + 16);
    // The silent stream reported 100 ms apart: ended within the 1-s floor, not the 2-min ceiling.
    const startedMs = Date.now();
    expect((await silent.status).code).toBe(grpc.status.UNAVAILABLE);
    expect(Date.now() - startedMs).toBeLessThan(5_000);
    expect(t.server.stats().streams).toBe(0);
    expect(counted()).toBe(before + 16);
    expect([...talker.directives, ...silent.directives].map((d) => d.version)).not.toContain(7n);
  });

  it("counts a returning reporter from its stream's baseline, past what another replica counted", async () => {
    const before = counted();
    const first = await streamCounted([report("mover", 1, 10), report("mover", 2, 12)], before + 12);
    await awayAndBack(first, report("mover", 3, 14));
    // Another replica led meanwhile and counted the reporter up to 20 (the baseline it confirmed).
    await streamCounted([report("mover", 7, 26, 20), report("mover", 8, 30)], before + 12 + 10);
    expect(t.server.stats().streams).toBe(1);
  });

  it("counts a returning reporter from the totals held here when its baseline is this replica's own", async () => {
    const before = counted();
    const first = await streamCounted([report("stayer", 1, 10), report("stayer", 2, 12)], before + 12);
    // Refused uncounted; the filter took it as delivered anyway (the stream's end reached it after
    // its next interval) and brings it back as its baseline: nobody counted 12..14.
    await awayAndBack(first, report("stayer", 3, 14));
    const back = await streamCounted([report("stayer", 4, 18, 14)], before + 18);
    // A second time away, with the baseline it left with: counted from the held totals again.
    await awayAndBack(back, report("stayer", 5, 19));
    await streamCounted([report("stayer", 6, 21, 18)], before + 21);

    // A third time, and a reconnect while away: refused at its first report, which the filter
    // took as delivered too.
    serving = false;
    t.server.stopServing();
    const retry = connect();
    retry.send(report("stayer", 7, 24, 21));
    expect((await retry.status).code).toBe(grpc.status.UNAVAILABLE);
    // Leadership came and went again before the filter got back: what was refused still counts as refused.
    t.server.stopServing();
    serving = true;
    await streamCounted([report("stayer", 8, 25, 24)], before + 25);
  });

  it("refuses new streams while not serving", async () => {
    serving = false;
    const c = connect();
    c.send(report("late", 1, 3));
    expect(await c.status).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(t.server.stats().refusedStreams.not_serving).toBeGreaterThan(0);
  });

  it("ends a refused stream that sends nothing after the 1-s floor, and one half-closed first, both UNAVAILABLE", async () => {
    serving = false;
    const silent = connect();
    const startedMs = Date.now();
    const halfClosed = connect();
    halfClosed.stream.end();
    expect(await halfClosed.status).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(await silent.status).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(900);
    expect(Date.now() - startedMs).toBeLessThan(5_000);
    expect(t.server.stats().streams).toBe(0);
  });
});
