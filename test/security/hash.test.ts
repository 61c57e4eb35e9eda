// SHA-256 (FIPS 180-4 / NIST example vectors) and HMAC-SHA256 (RFC 4231 cases 1-7) of the filter's
// AssemblyScript implementation, compiled to wasm; plus a cross-check against node:crypto at every
// padding boundary.
import { createHash, createHmac } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { loadSecurityWasm, type SecurityWasm } from "./security-wasm.js";

let wasm: SecurityWasm;
beforeAll(() => {
  wasm = loadSecurityWasm("hash");
});

const hex = (s: string) => Buffer.from(s, "utf8").toString("hex");
const bytes = (byte: number, n: number) => byte.toString(16).padStart(2, "0").repeat(n);

describe("sha256 (FIPS 180-4 vectors)", () => {
  it.each([
    ["empty message", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "448-bit message",
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    [
      "896-bit message",
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ],
  ])("%s", (_name, message, digest) => {
    expect(wasm.str("sha256Hex", hex(message))).toBe(digest);
  });

  it("one million 'a' (fed 1000 bytes per update)", () => {
    expect(wasm.str("sha256RepeatedHex", hex("a".repeat(1000)), 1000)).toBe(
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    );
  });

  it("one million 'a' in one update", () => {
    expect(wasm.str("sha256RepeatedHex", hex("a".repeat(1_000_000)), 1)).toBe(
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    );
  });

  it("matches node:crypto for every length around the padding boundaries", () => {
    for (const n of [1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 200]) {
      const data = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
      expect(wasm.str("sha256Hex", data.toString("hex")), `length ${n}`).toBe(
        createHash("sha256").update(data).digest("hex"),
      );
    }
  });

  it("streams: odd-sized updates give the one-shot digest", () => {
    // 7-byte chunks straddle block boundaries in every position.
    const chunk = Buffer.from("0123456");
    const whole = Buffer.concat(Array.from({ length: 50 }, () => chunk));
    expect(wasm.str("sha256RepeatedHex", chunk.toString("hex"), 50)).toBe(
      createHash("sha256").update(whole).digest("hex"),
    );
  });
});

describe("hmacSha256 (RFC 4231)", () => {
  const big = bytes(0xaa, 131);
  it.each([
    [
      "1",
      bytes(0x0b, 20),
      hex("Hi There"),
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ],
    [
      "2",
      hex("Jefe"),
      hex("what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      "3",
      bytes(0xaa, 20),
      bytes(0xdd, 50),
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    ],
    [
      "4",
      "0102030405060708090a0b0c0d0e0f10111213141516171819",
      bytes(0xcd, 50),
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    ],
    // Case 5 specifies only the first 128 bits of the output.
    [
      "5 (truncated to 128 bits)",
      bytes(0x0c, 20),
      hex("Test With Truncation"),
      "a3b6167473100ee06e0c796c2955552b",
    ],
    [
      "6 (key longer than a block)",
      big,
      hex("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
    [
      "7 (key and data longer than a block)",
      big,
      hex(
        "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
      ),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ])("test case %s", (_name, key, data, mac) => {
    const got = wasm.str("hmacHex", key, data);
    expect(got.slice(0, mac.length)).toBe(mac);
    expect(got).toBe(
      createHmac("sha256", Buffer.from(key, "hex")).update(Buffer.from(data, "hex")).digest("hex"),
    );
  });

  it("a key of exactly one block is used as is, one byte more is hashed", () => {
    for (const n of [63, 64, 65]) {
      const key = bytes(0x5a, n);
      expect(wasm.str("hmacHex", key, hex("msg")), `key length ${n}`).toBe(
        createHmac("sha256", Buffer.from(key, "hex")).update("msg").digest("hex"),
      );
    }
  });
});
