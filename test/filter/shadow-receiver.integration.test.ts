// The compiled filter's shadow rules through the sandbox host: a route for "<host>-shadow" is
// decided and tallied only where `shadowReceiver: true` (the canary pods' inbound side), which in
// turn leaves every other route alone; a caller's filter ignores shadow authorities, so nobody can
// pass ordinary requests off as mirrored copies, and a live request is never counted twice.
import { describe, expect, it } from "vitest";
import type { Headers, ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterHosts } from "./filter-hosts.js";

const HOST = "reviews.default.svc.cluster.local";
const VARIANT = "x-meshcanary-variant";

function config(receiver: boolean | string | undefined): string {
  const base = { pin: {}, sticky: { header: "x-user-id" } };
  return JSON.stringify({
    ...(receiver !== undefined ? { shadowReceiver: receiver } : {}),
    routes: [
      {
        ...base,
        host: HOST,
        canary: "default/reviews",
        variants: [
          { name: "stable", weight: 10000 },
          { name: "canary", weight: 0 },
        ],
      },
      {
        ...base,
        host: `${HOST}-shadow`,
        aliases: ["reviews-shadow"],
        canary: "default/reviews",
        variants: [{ name: "shadow", weight: 10000 }],
      },
    ],
  });
}

const startHost = filterHosts();

function host(receiver: boolean | undefined): Promise<ProxyWasmHost> {
  return startHost({ workers: 1, pluginConfig: config(receiver) });
}

function send(h: ProxyWasmHost, authority: string): Headers {
  return h.request({
    request: {
      headers: [
        [":authority", authority],
        ["x-user-id", "u1"],
      ],
    },
    response: { status: 200, bodyBytes: 1 },
    durationNs: 1_000_000,
  }).requestHeaders;
}

const counter = (h: ProxyWasmHost, variant: string) =>
  h.metrics().get(`wasmcustom.meshcanary_requests__default__reviews__${variant}`)?.value ?? 0;

describe("shadow routes", () => {
  it("a caller's filter decides live requests and ignores shadow authorities", async () => {
    const h = await host(undefined);
    expect(send(h, HOST).filter(([k]) => k === VARIANT)).toEqual([[VARIANT, "stable"]]);
    for (const a of [`${HOST}-shadow`, "reviews-shadow:9080", `${HOST}-shadow:9080`])
      expect(
        send(h, a).filter(([k]) => k === VARIANT),
        a,
      ).toEqual([]);
    expect([counter(h, "stable"), counter(h, "shadow")]).toEqual([1, 0]);
  });

  it("the receiving side tallies mirrored copies (any suffixed name) and leaves live requests alone", async () => {
    const h = await host(true);
    for (const a of [`${HOST}-shadow`, "reviews-shadow:9080", `${HOST}-shadow:9080`]) send(h, a);
    const live = send(h, HOST);
    expect(live.filter(([k]) => k === VARIANT)).toEqual([]);
    expect([counter(h, "shadow"), counter(h, "stable"), counter(h, "canary")]).toEqual([3, 0, 0]);
  });

  it("rejects a shadowReceiver that is not a boolean, naming the field and the value", async () => {
    const h = await host(false);
    expect(h.configure(config("yes")).ok).toBe(false);
    expect(h.logs.some((l) => l.message.includes('shadowReceiver: must be true or false, got "yes"'))).toBe(
      true,
    );
  });
});
