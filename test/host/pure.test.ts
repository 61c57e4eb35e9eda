import { describe, expect, it } from "vitest";
import { HeaderMap } from "../../sandbox/host/header-map.js";
import { StatsStore, VmMetrics } from "../../sandbox/host/metrics.js";
import { decodePairs, encodePairs } from "../../sandbox/host/pairs.js";
import { SharedStore } from "../../sandbox/host/shared-data.js";

describe("pair serialisation (contract §3.1)", () => {
  it("encodes the documented layout", () => {
    const b = encodePairs([
      ["a", "1"],
      ["bc", ""],
    ]);
    expect([...b]).toEqual([
      2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x61, 0, 0x31, 0, 0x62, 0x63, 0, 0,
    ]);
    expect(decodePairs(b)).toEqual([
      ["a", "1"],
      ["bc", ""],
    ]);
    expect(encodePairs([]).length).toBe(0);
  });

  it.each([
    [
      "missing terminator",
      (b: Uint8Array) => {
        b[21] = 1;
        return b;
      },
    ],
    ["trailing byte", (b: Uint8Array) => Uint8Array.from([...b, 0])],
    ["truncated", (b: Uint8Array) => b.subarray(0, b.length - 1)],
    [
      "N > 1024",
      () => {
        const b = new Uint8Array(4 + 8 * 1025 + 2 * 1025);
        new DataView(b.buffer).setUint32(0, 1025, true);
        return b;
      },
    ],
  ])("treats malformed input as empty: %s", (_name, mutate) => {
    expect(
      decodePairs(
        mutate(
          encodePairs([
            ["a", "1"],
            ["bc", ""],
          ]),
        ),
      ),
    ).toEqual([]);
  });
});

describe("header map semantics (contract §3.2)", () => {
  it("lower-cases, keeps pseudo-headers first, first-value get, replace first, remove all", () => {
    const m = HeaderMap.from([
      ["X-A", "1"],
      [":path", "/"],
      ["x-a", "2"],
    ]);
    m.add(":method", "GET");
    expect(m.entries).toEqual([
      [":path", "/"],
      [":method", "GET"],
      ["x-a", "1"],
      ["x-a", "2"],
    ]);
    expect(m.get("X-A")).toBe("1");
    expect(m.getJoined("x-a")).toBe("1,2");
    m.replace("x-a", "3");
    expect(m.entries.slice(2)).toEqual([
      ["x-a", "3"],
      ["x-a", "2"],
    ]);
    m.remove("X-A");
    expect(m.byteSize()).toBe(":path/:methodGET".length);
  });
});

describe("shared data CAS (contract §7)", () => {
  it("cas 0 is unconditional, a stale cas mismatches, counters skip 0", () => {
    const s = new SharedStore();
    const v = new Uint8Array([1]);
    expect(s.set("", "k", v, 77)).toBe(0); // absent key: stored regardless of cas
    expect(s.get("", "k")?.cas).toBe(1);
    expect(s.set("", "k", v, 5)).toBe(8);
    expect(s.set("", "k", v, 1)).toBe(0);
    expect(s.get("", "k")?.cas).toBe(2);
    expect(s.set("", "k", v, 0)).toBe(0);
    expect(s.get("", "k")?.cas).toBe(3);
    expect(s.get("other-vm", "k")).toBeUndefined();
  });

  it("queues: same name same token, Empty when drained, last registrant receives", () => {
    const s = new SharedStore();
    const t = s.registerQueue("", "q", { worker: 0, rootContextId: 1 });
    expect(s.registerQueue("", "q", { worker: 1, rootContextId: 4 })).toBe(t);
    expect(s.enqueue(t, new Uint8Array([9]))).toEqual({ worker: 1, rootContextId: 4 });
    expect(s.dequeue(t)).toEqual(new Uint8Array([9]));
    expect(s.dequeue(t)).toBe(7);
    expect(s.dequeue(t + 100)).toBe(1);
  });
});

describe("metrics (contract §8)", () => {
  it("shares stats by name across VMs and applies counter/gauge/histogram rules", () => {
    const store = new StatsStore();
    const a = new VmMetrics(store);
    const b = new VmMetrics(store);
    const [, ca] = a.define(0, "n");
    const [, cb] = b.define(0, "n");
    expect([ca, cb]).toEqual([4, 4]);
    a.increment(ca, 2n);
    b.record(cb, 3n); // record on a counter adds
    expect(a.get(ca)).toEqual([0, 5]);
    expect(a.increment(ca, -1n)).toBe(2);
    expect(a.increment(8, 1n)).toBe(1);
    const [, h] = a.define(2, "h");
    expect(h).toBe(6);
    expect(a.increment(h, 1n)).toBe(2);
    expect(store.prometheus()).toContain('h_bucket{le="+Inf"} 0');
  });
});
