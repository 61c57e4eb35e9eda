// The sandbox host's allocation-free encodings against the reference encoders they replace:
// int64 property values (vs DataView.setBigInt64), guest strings (vs TextDecoder/TextEncoder),
// and guest views after the memory grows.
import { describe, expect, it } from "vitest";
import { GuestMemory } from "../../sandbox/host/memory.js";
import { int64 } from "../../sandbox/host/properties.js";

function reference(v: bigint | number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(v), true);
  return out;
}

describe("int64 property encoding", () => {
  const values: Array<bigint | number> = [
    0,
    1,
    200,
    -1,
    0xffffffff,
    2 ** 32,
    2 ** 40 + 5,
    -(2 ** 33) - 7,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    1_000_000n,
    -5n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    2n ** 53n + 1n,
    -(2n ** 60n) - 3n,
  ];
  for (const v of values) {
    it(`encodes ${v} like setBigInt64`, () => {
      expect(int64(v)).toEqual(reference(v));
    });
  }
});

describe("guest strings", () => {
  /** A one-page memory whose allocator hands out increasing addresses from 1024. */
  function guest(): { memory: WebAssembly.Memory; mem: GuestMemory } {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    let next = 1024;
    const mem = new GuestMemory(memory, (size) => {
      const p = next;
      next += size;
      return p;
    });
    return { memory, mem };
  }

  const samples = ["", "plain", "grüße", "日本語", "emoji 😀", "lone \ud800 surrogate", "a\u0000b"];

  it("returns strings as TextEncoder bytes", () => {
    const { memory, mem } = guest();
    for (const s of samples) {
      expect(mem.returnString(s, 0, 4)).toBe(0);
      const view = new DataView(memory.buffer);
      const ptr = view.getUint32(0, true);
      const size = view.getUint32(4, true);
      expect(new Uint8Array(memory.buffer, ptr, size)).toEqual(new TextEncoder().encode(s));
    }
  });

  it("reads strings, also invalid UTF-8, as TextDecoder does", () => {
    const { memory, mem } = guest();
    const inputs = [
      ...samples.map((s) => new TextEncoder().encode(s)),
      Uint8Array.of(0xff, 0x41),
      Uint8Array.of(0xe6, 0x97, 0x41),
      Uint8Array.of(0xf0, 0x9f, 0x98),
      Uint8Array.of(0xc0, 0xaf, 0xed, 0xa0, 0x80),
    ];
    for (const bytes of inputs) {
      new Uint8Array(memory.buffer).set(bytes, 2048);
      expect(mem.string(2048, bytes.length)).toBe(new TextDecoder().decode(bytes));
    }
    expect(mem.string(65535, 2)).toBeUndefined();
  });

  it("sees memory added by growth", () => {
    const { memory, mem } = guest();
    expect(mem.string(70000, 2)).toBeUndefined();
    memory.grow(1);
    new Uint8Array(memory.buffer).set(new TextEncoder().encode("ok"), 70000);
    expect(mem.string(70000, 2)).toBe("ok");
    expect(mem.size).toBe(2 * 65536);
  });
});
