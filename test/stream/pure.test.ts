// Table-driven tests of the reporting side's pure AssemblyScript modules, compiled from
// filter/testing/stream-exports.ts: backoff bounds, lease rules, tally merge, pair encoding, seq.
import { beforeAll, describe, expect, it } from "vitest";
import { decodePairs } from "../../sandbox/host/index.js";
import { loadTestWasm, type TestWasm } from "../helpers/as-test-wasm.js";

let wasm: TestWasm;
const call = (name: string, ...args: Array<string | number | bigint>) => wasm.call(name, ...args);

beforeAll(() => {
  wasm = loadTestWasm("filter/testing/stream-exports.ts", "filter/testing/asconfig.json", "stream/pure.wasm");
});

describe("backoff", () => {
  it.each([
    [0, 0, 125],
    [0, 0xffffffff, 249],
    [1, 0, 250],
    [3, 0x80000000, 1000 + 500],
    [7, 0, 15000],
    [8, 0, 15000],
    [40, 0xffffffff, 29999],
  ])("attempt %i, bits %i → %i ms", (attempt, bits, want) => {
    expect(call("backoff", attempt, bits)).toBe(want);
  });
});

describe("lease", () => {
  it.each([
    ["ab12:1700000000000", "ab12|1700000000000"],
    ["a:b:5", "a:b|5"],
    ["ab12:", "null"],
    [":5", "null"],
    ["ab12:12x", "null"],
    ["ab12:1234567890123456789", "null"],
    ["", "null"],
  ])("parse %j → %s", (text, want) => {
    expect(wasm.str("leaseParse", text)).toBe(want);
  });

  it("formats what it parses", () => {
    expect(wasm.str("leaseFormat", "w1", 42n)).toBe("w1:42");
  });

  it.each([
    ["w1:2000", "w1", 1000, true], // mine: renew
    ["w2:2000", "w1", 1000, false], // someone else's, live
    ["w2:2000", "w1", 2000, true], // expired at its expiry
    ["garbage", "w1", 0, true], // malformed counts as free
  ])("%s, me=%s, now=%i → %s", (text, me, now, want) => {
    expect(call("leaseMayTake", text as string, me as string, BigInt(now as number))).toBe(want ? 1 : 0);
  });
});

describe("merge", () => {
  it("adds per (canary, variant), merges sketches and clears a delta in place", () => {
    const [merged, cleared] = wasm.str("mergeExample").split("|");
    const list = JSON.parse(merged!);
    expect(list.map((t: { variant: string; requests: number }) => [t.variant, t.requests])).toEqual([
      ["stable", 5],
      ["canary", 1],
    ]);
    expect(list[0].latencyUs.count).toBe(5);
    expect(list[0].latencyUs.counts.reduce((a: number, b: number) => a + b, 0)).toBe(5);
    expect(list[1].latencyUs.zeroCount).toBe(1);
    const c = JSON.parse(cleared!);
    expect([c.requests, c.status2xx, c.latencyUs.count, c.latencyUs.indexes.length]).toEqual([0, 0, 0, 0]);
  });
});

describe("pairs", () => {
  it.each([[""], ["x-meshcanary-token=s3cret"], ["a=1&b=&c=ünï"]])(
    "%j round-trips through the host's decoder",
    (spec) => {
      const buf = wasm.exports.__getArrayBuffer(call("pairs", spec) as number);
      const want = spec === "" ? [] : spec.split("&").map((kv) => kv.split("=") as [string, string]);
      expect(decodePairs(new Uint8Array(buf))).toEqual(want);
    },
  );
});

describe("proxy state seq", () => {
  it.each([
    [0n, "1,1,abc123"],
    [1n, "1,2,abc123"],
    [41n, "1,42,abc123"],
  ])("stored %i → next before/after delivery", (stored, want) => {
    expect(wasm.str("seqExample", stored)).toBe(want);
  });

  it.each([[[]], [[0]], [[1, 0xff, 0xff]], [[0, 0x0a, 0x00]]])("rejects %j without trapping", (bytes) => {
    const p = wasm.exports.__pin(wasm.exports.__newArrayBuffer(new Uint8Array(bytes).buffer));
    expect(call("stateRejects", p)).toBe(1);
  });
});
