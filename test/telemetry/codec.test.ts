/**
 * The filter's hand-written protobuf codec (filter/report.ts, compiled to wasm) against the
 * generated TypeScript code: both directions, unknown fields, unpacked repeated, and malformed input
 * that must be rejected as a value, never a trap.
 */
import { equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { beforeAll, describe, expect, it } from "vitest";
import { DirectiveSchema, ReportSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import {
  buildDirective,
  buildReport,
  type CodecExports,
  callBytes,
  loadCodec,
  withBytes,
} from "./fixtures.js";

let codec: CodecExports;

beforeAll(async () => {
  codec = await loadCodec();
});

const ns = Array.from({ length: 14 }, (_, i) => i);

function asBytes(ptr: number): Uint8Array {
  return new Uint8Array(codec.__getArrayBuffer(ptr));
}

describe("AS encode -> TS decode", () => {
  it.each(ns)("report %i decodes to the same message and the same bytes", (n) => {
    const bytes = asBytes(codec.buildReport(n));
    const decoded = fromBinary(ReportSchema, bytes);
    expect(equals(ReportSchema, decoded, buildReport(n))).toBe(true);
    expect(Buffer.from(bytes).equals(Buffer.from(toBinary(ReportSchema, buildReport(n))))).toBe(true);
  });

  it.each(ns)("directive %i decodes to the same message", (n) => {
    const bytes = asBytes(codec.buildDirective(n));
    const decoded = fromBinary(DirectiveSchema, bytes);
    expect(equals(DirectiveSchema, decoded, buildDirective(n))).toBe(true);
  });
});

describe("TS encode -> AS decode -> AS encode -> TS decode", () => {
  it.each(ns)("report %i survives the round trip", (n) => {
    const original = buildReport(n);
    const out = callBytes(codec, codec.reportRoundTrip, toBinary(ReportSchema, original));
    expect(out).not.toBeNull();
    expect(equals(ReportSchema, fromBinary(ReportSchema, out!), original)).toBe(true);
  });

  it.each(ns)("directive %i survives the round trip", (n) => {
    const original = buildDirective(n);
    const out = callBytes(codec, codec.directiveRoundTrip, toBinary(DirectiveSchema, original));
    expect(out).not.toBeNull();
    expect(equals(DirectiveSchema, fromBinary(DirectiveSchema, out!), original)).toBe(true);
  });

  it("skips unknown fields of every wire type", () => {
    const original = buildDirective(5);
    const w = new BinaryWriter();
    w.tag(40, WireType.Varint).uint64(123456789n);
    w.tag(41, WireType.Bit64).double(1.5);
    w.tag(42, WireType.LengthDelimited).bytes(new Uint8Array([1, 2, 3]));
    w.tag(43, WireType.Bit32).fixed32(7);
    const withUnknown = new Uint8Array([...toBinary(DirectiveSchema, original), ...w.finish()]);
    const out = callBytes(codec, codec.directiveRoundTrip, withUnknown);
    expect(out).not.toBeNull();
    expect(equals(DirectiveSchema, fromBinary(DirectiveSchema, out!), original)).toBe(true);
  });

  it("accepts unpacked repeated scalars", () => {
    // VariantTotals{latency_us: Sketch{indexes: -5, 7 unpacked; counts: 2, 3 unpacked; count 5}}
    const sk = new BinaryWriter();
    sk.tag(1, WireType.Varint).uint64(5);
    sk.tag(4, WireType.Varint).sint32(-5);
    sk.tag(4, WireType.Varint).sint32(7);
    sk.tag(5, WireType.Varint).uint64(2);
    sk.tag(5, WireType.Varint).uint64(3);
    const vt = new BinaryWriter();
    vt.tag(1, WireType.LengthDelimited).string("ns/a");
    vt.tag(11, WireType.LengthDelimited).bytes(sk.finish());
    const rep = new BinaryWriter();
    rep.tag(4, WireType.LengthDelimited).bytes(vt.finish());
    const out = callBytes(codec, codec.reportRoundTrip, rep.finish());
    expect(out).not.toBeNull();
    const decoded = fromBinary(ReportSchema, out!);
    expect(decoded.totals[0]?.latencyUs?.indexes).toEqual([-5, 7]);
    expect(decoded.totals[0]?.latencyUs?.counts).toEqual([2n, 3n]);
  });

  it("keeps the last value of a repeated map key", () => {
    const entry = (v: number) => {
      const e = new BinaryWriter();
      e.tag(1, WireType.LengthDelimited).string("k");
      e.tag(2, WireType.Varint).uint64(v);
      return e.finish();
    };
    const rep = new BinaryWriter();
    rep.tag(6, WireType.LengthDelimited).bytes(entry(1));
    rep.tag(6, WireType.LengthDelimited).bytes(entry(9));
    const out = callBytes(codec, codec.reportRoundTrip, rep.finish());
    expect(fromBinary(ReportSchema, out!).counters).toEqual({ k: 9n });
  });
});

function probe(bytes: Uint8Array, fn: "probeDirective" | "probeReport" = "probeDirective"): number {
  return withBytes(codec, bytes, (p) => codec[fn](p));
}

function rejected(bytes: Uint8Array): string {
  expect(probe(bytes)).toBe(0);
  return codec.__getString(codec.decodeError());
}

describe("malformed input is rejected with a reason", () => {
  const valid = toBinary(DirectiveSchema, buildDirective(4));
  const cases: [string, Uint8Array, RegExp][] = [
    ["truncated varint", new Uint8Array([0x08, 0xff]), /truncated varint/],
    ["11-byte varint", new Uint8Array([0x08, ...Array(10).fill(0xff), 0x01]), /longer than 10/],
    ["length past the end", new Uint8Array([0x12, 0x05, 0x0a]), /past the end/],
    ["truncated message", valid.subarray(0, valid.length - 3), /truncated|past the end/],
    ["field number 0", new Uint8Array([0x00, 0x01]), /invalid field number/],
    ["group wire type (unknown field)", new Uint8Array([0xa3, 0x01, 0xa4, 0x01]), /unsupported wire type 3/],
    ["wrong wire type for routes", new Uint8Array([0x10, 0x01]), /wrong wire type/],
    ["truncated fixed64 (unknown field)", new Uint8Array([0xa1, 0x01, 1, 2, 3]), /truncated fixed64/],
    ["too many aliases", tooManyAliases(), /more than 65536 elements/],
  ];
  it.each(cases)("%s", (_name, bytes, reason) => {
    expect(rejected(bytes)).toMatch(reason);
  });

  it("a valid directive and the empty message decode", () => {
    expect(probe(valid)).toBe(1);
    expect(probe(new Uint8Array(0))).toBe(1);
    expect(codec.__getString(codec.decodeError())).toBe("");
  });
});

function tooManyAliases(): Uint8Array {
  const route = new BinaryWriter();
  for (let i = 0; i < 65537; i++) route.tag(2, WireType.LengthDelimited).string("");
  const d = new BinaryWriter();
  d.tag(2, WireType.LengthDelimited).bytes(route.finish());
  return d.finish();
}

/** xorshift32: deterministic, so a failure is reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

describe("random and mutated bytes never trap", () => {
  it("decodes 3000 random buffers and 3000 mutations of valid messages without a trap", () => {
    const rand = rng(12345);
    const seeds = [
      toBinary(DirectiveSchema, buildDirective(7)),
      toBinary(ReportSchema, buildReport(7)),
      toBinary(ReportSchema, buildReport(11)),
    ];
    let accepted = 0;
    let refused = 0;
    const tally = (r: number) => {
      if (r === 1) accepted++;
      else refused++;
    };
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(Math.floor(rand() * 64));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      tally(probe(bytes, "probeDirective"));
      tally(probe(bytes, "probeReport"));
    }
    for (let i = 0; i < 3000; i++) {
      const seed = seeds[i % seeds.length]!;
      const bytes = seed.slice(0, Math.max(1, Math.floor(seed.length * (0.5 + rand() / 2))));
      const flips = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < flips; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      tally(probe(bytes, i % 3 === 0 ? "probeDirective" : "probeReport"));
    }
    // Both outcomes occur, so the probe really distinguishes (a probe stuck at one answer fails here).
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(accepted + refused).toBe(9000);
  });
});
