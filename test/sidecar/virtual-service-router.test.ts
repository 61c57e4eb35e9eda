import { describe, expect, it } from "vitest";
import {
  durationMs,
  hostMatches,
  pickDestination,
  type RequestView,
  routeRequest,
  stringMatches,
  type VirtualServiceSpec,
} from "../../sandbox/sidecar/virtual-service-router.js";

function req(headers: Record<string, string> = {}, path = "/", authority = "reviews"): RequestView {
  return { authority, path, method: "GET", headers: new Map(Object.entries(headers)) };
}

const vs: VirtualServiceSpec = {
  hosts: ["reviews"],
  http: [
    {
      name: "meshcanary-reviews-canary",
      match: [{ headers: { "x-meshcanary-variant": { exact: "canary" } } }],
      route: [{ destination: { host: "reviews", subset: "v2" } }],
    },
    {
      name: "api",
      match: [{ uri: { prefix: "/api" } }, { headers: { "x-debug": { regex: "on|yes" } } }],
      route: [{ destination: { host: "reviews", subset: "api" } }],
      timeout: "1.5s",
    },
    {
      name: "primary",
      route: [
        { destination: { host: "reviews", subset: "v1" }, weight: 90 },
        { destination: { host: "reviews", subset: "v2" }, weight: 10 },
      ],
    },
  ],
};

describe("stringMatches", () => {
  it.each([
    [{ exact: "a" }, "a", true],
    [{ exact: "a" }, "ab", false],
    [{ prefix: "/ap" }, "/api", true],
    [{ prefix: "/ap" }, "/x", false],
    [{ regex: "on|yes" }, "yes", true],
    [{ regex: "on|yes" }, "yesno", false],
    [{ exact: "a" }, undefined, false],
  ])("%j vs %s -> %s", (m, v, want) => {
    expect(stringMatches(m, v)).toBe(want);
  });
});

describe("hostMatches", () => {
  it.each([
    ["reviews", "reviews", true],
    ["reviews", "reviews.default.svc.cluster.local", true],
    ["reviews.default.svc.cluster.local", "reviews", true],
    ["*.example.com", "shop.example.com", true],
    ["*.example.com", "example.org", false],
    ["ratings", "reviews", false],
  ])("%s covers %s: %s", (h, a, want) => {
    expect(hostMatches(h, a)).toBe(want);
  });
});

describe("routeRequest", () => {
  it.each([
    [
      "variant header routes to its subset",
      req({ "x-meshcanary-variant": "canary" }),
      0.0,
      "v2",
      "meshcanary-reviews-canary",
    ],
    ["uri prefix block", req({}, "/api/x"), 0.0, "api", "api"],
    ["second match block (OR)", req({ "x-debug": "on" }), 0.0, "api", "api"],
    ["weighted fallback low draw", req(), 0.5, "v1", "primary"],
    ["weighted fallback high draw", req(), 0.95, "v2", "primary"],
    ["other variant value falls through", req({ "x-meshcanary-variant": "stable" }), 0.0, "v1", "primary"],
  ])("%s", (_name, r, random, subset, routeName) => {
    const choice = routeRequest([vs], r, random);
    expect(choice?.subset).toBe(subset);
    expect(choice?.routeName).toBe(routeName);
  });

  it("carries the route timeout", () => {
    expect(routeRequest([vs], req({}, "/api"), 0)?.timeoutMs).toBe(1500);
  });

  it("returns undefined for an unknown host", () => {
    expect(routeRequest([vs], req({}, "/", "ratings"), 0)).toBeUndefined();
  });
});

describe("pickDestination", () => {
  it("splits by weight", () => {
    const route = [
      { destination: { host: "h", subset: "a" }, weight: 25 },
      { destination: { host: "h", subset: "b" }, weight: 75 },
    ];
    let a = 0;
    for (let i = 0; i < 1000; i++) if (pickDestination(route, i / 1000)?.destination.subset === "a") a++;
    expect(a).toBe(250);
  });
});

describe("durationMs", () => {
  it.each([
    ["200ms", 200],
    ["1.5s", 1500],
    ["2m", 120_000],
    ["bogus", undefined],
    [undefined, undefined],
  ])("%s -> %s", (text, want) => {
    expect(durationMs(text)).toBe(want);
  });
});
