import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { fmix32, fnv1a32, stickyBucket } from "../../controller/mesh/sticky-hash.js";
import { loadPureWasm, type PureWasm } from "./pure-wasm.js";

interface Vector {
  cohort: string;
  key: string;
  fnv1a32: number;
  bucket: number;
}
const vectors: Vector[] = JSON.parse(
  readFileSync(new URL("../vectors/sticky-hash.json", import.meta.url), "utf8"),
).vectors;

describe("sticky hash vectors", () => {
  let wasm: PureWasm;
  beforeAll(() => {
    wasm = loadPureWasm("hash");
  });

  it("has enough vectors, including empty, unicode and long keys", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(50);
    expect(vectors.some((v) => v.cohort === "" && v.key === "")).toBe(true);
    expect(vectors.some((v) => /[\u{10000}-\u{10ffff}]/u.test(v.key))).toBe(true);
    expect(vectors.some((v) => v.key.length >= 1000)).toBe(true);
  });

  it("FNV-1a matches the published reference values", () => {
    // Reference values of FNV-1a 32 (Fowler/Noll/Vo test suite).
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    expect(wasm.u32("fnv1a32", "")).toBe(0x811c9dc5);
    expect(wasm.u32("fnv1a32", "a")).toBe(0xe40c292c);
    expect(wasm.u32("fnv1a32", "foobar")).toBe(0xbf9cf968);
  });

  it("fmix32 matches MurmurHash3's finaliser on both sides", () => {
    for (const h of [0, 1, 0x811c9dc5, 0xffffffff, 0x12345678]) {
      expect(wasm.u32("fmix32", h | 0)).toBe(fmix32(h));
    }
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7);
  });

  it.each(vectors.map((v, i) => [i, v] as const))("vector %i: TypeScript", (_i, v) => {
    expect(fnv1a32(v.cohort + ":" + v.key)).toBe(v.fnv1a32);
    expect(stickyBucket(v.cohort, v.key)).toBe(v.bucket);
  });

  it.each(vectors.map((v, i) => [i, v] as const))("vector %i: AssemblyScript", (_i, v) => {
    expect(wasm.u32("fnv1a32", v.cohort + ":" + v.key)).toBe(v.fnv1a32);
    expect(wasm.u32("stickyBucket", v.cohort, v.key)).toBe(v.bucket);
  });
});
