// The per-request shortcuts of filter/request-routing.ts, filter/contexts.ts and filter/abi/memory.ts
// through the real build/meshcanary.wasm: the cached `:authority` → route lookup, the static slot for
// host-returned values (and the heap fallback for large ones), and reused per-stream states.
import { describe, expect, it } from "vitest";
import { stickyBucket } from "../../controller/mesh/sticky-hash.js";
import type { Headers, ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterHosts } from "./filter-hosts.js";

const HOST = "reviews.default.svc.cluster.local";
const VARIANT = "x-meshcanary-variant";
const REQUESTS = "wasmcustom.meshcanary_requests__default__reviews__";

function config(host: string, canaryWeight: number): string {
  return JSON.stringify({
    routes: [
      {
        host,
        canary: "default/reviews",
        variants: [
          { name: "stable", weight: 10000 - canaryWeight },
          { name: "canary", weight: canaryWeight },
        ],
        sticky: { header: "x-user-id" },
      },
    ],
  });
}

const startHost = filterHosts();

function newHost(pluginConfig: string): Promise<ProxyWasmHost> {
  return startHost({ workers: 1, pluginConfig });
}

function variantOf(host: ProxyWasmHost, headers: Headers): string[] {
  const r = host.request({ request: { headers }, response: { status: 200 }, durationNs: 1_000_000 });
  return r.requestHeaders.filter(([k]) => k === VARIANT).map(([, v]) => v);
}

function requests(host: ProxyWasmHost, variant: string): number {
  return host.metrics().get(REQUESTS + variant)?.value ?? 0;
}

describe("cached :authority lookup", () => {
  it("follows every reconfiguration for a repeated authority", async () => {
    const host = await newHost(config(HOST, 0));
    const headers: Headers = [[":authority", `${HOST}:9080`]];
    expect(variantOf(host, headers)).toEqual(["stable"]);
    expect(variantOf(host, headers)).toEqual(["stable"]);
    expect(host.configure(config(HOST, 10000))).toEqual({ ok: true });
    expect(variantOf(host, headers)).toEqual(["canary"]);
    // The route now answers to another host only: the same bytes must no longer match.
    expect(host.configure(config("ratings.default.svc.cluster.local", 10000))).toEqual({ ok: true });
    expect(variantOf(host, headers)).toEqual([]);
    expect(variantOf(host, [[":authority", "ratings:9080"]])).toEqual(["canary"]);
  });

  it("switches between known, unknown and differently spelled authorities", async () => {
    const host = await newHost(config(HOST, 10000));
    const sequence: Array<[string, string[]]> = [
      [`${HOST}:9080`, ["canary"]],
      ["ratings:9080", []],
      ["REVIEWS:9080", ["canary"]],
      ["", []],
      ["reviews.default", ["canary"]],
      ["reviews.default.svc.cluster.local.evil", []],
      [`${HOST}:9080`, ["canary"]],
    ];
    for (const [authority, expected] of sequence) {
      expect(variantOf(host, [[":authority", authority]]), authority).toEqual(expected);
    }
  });
});

describe("host-returned values", () => {
  it("decides on values larger than the static slot and keeps memory flat", async () => {
    const host = await newHost(config(HOST, 5000));
    const longKey = (i: number) => `user-${i}-${"k".repeat(3000)}`;
    const bigCookie = `${"a=b; ".repeat(400)}meshcanary-pin=canary`;
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        const want = stickyBucket("default/reviews", longKey(i)) < 5000 ? "stable" : "canary";
        expect(
          variantOf(host, [
            [":authority", HOST],
            ["x-user-id", longKey(i)],
          ]),
        ).toEqual([want]);
        // The pin cookie arrives on the heap while the authority still holds the slot.
        expect(
          variantOf(host, [
            [":authority", HOST],
            ["cookie", bigCookie],
          ]),
        ).toEqual(["canary"]);
      }
    };
    run(200);
    const before = host.memoryBytes();
    run(2000);
    expect(host.memoryBytes()).toBe(before);
  });
});

describe("per-stream state", () => {
  it("keeps interleaved streams apart and reuses finished ones correctly", async () => {
    const host = await newHost(config(HOST, 0));
    const pinned = (variant: string): Headers => [
      [":authority", HOST],
      ["x-meshcanary-pin", variant],
    ];
    const a = host.startStream(0);
    const b = host.startStream(0);
    expect(a.requestHeaders(pinned("canary"), true).headers).toContainEqual([VARIANT, "canary"]);
    expect(b.requestHeaders(pinned("stable"), true).headers).toContainEqual([VARIANT, "stable"]);
    b.responseHeaders(200, {}, true);
    b.complete({ durationNs: 1_000_000 });
    a.responseHeaders(200, {}, true);
    a.complete({ durationNs: 1_000_000 });
    expect([requests(host, "stable"), requests(host, "canary")]).toEqual([1, 1]);
    // A new stream reuses a finished state: it must start undecided (an unknown host counts nothing).
    const c = host.startStream(0);
    c.requestHeaders([[":authority", "ratings"]], true);
    c.responseHeaders(200, {}, true);
    c.complete({ durationNs: 1_000_000 });
    expect([requests(host, "stable"), requests(host, "canary")]).toEqual([1, 1]);
    expect(variantOf(host, pinned("canary"))).toEqual(["canary"]);
    expect([requests(host, "stable"), requests(host, "canary")]).toEqual([1, 2]);
  });
});
