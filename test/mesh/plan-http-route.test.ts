import { describe, expect, it } from "vitest";
import type { HttpRouteObject, HttpRouteRule } from "../../controller/mesh/http-route-types.js";
import { planHttpRoute } from "../../controller/mesh/plan-http-route.js";
import type { MeshIntent } from "../../controller/mesh/types.js";
import { STATE_ANNOTATION } from "../../controller/mesh/types.js";

const backend = (name: string, weight?: number) => ({
  group: "",
  kind: "Service",
  name,
  port: 9080,
  ...(weight !== undefined ? { weight } : {}),
});

/** The user's route: GAMMA parentRef on the reviews Service, an admin rule, then everything to v1. */
function route(rules?: HttpRouteRule[]): HttpRouteObject {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "reviews", namespace: "default", resourceVersion: "7" },
    spec: {
      parentRefs: [{ group: "", kind: "Service", name: "reviews", port: 9080 }],
      rules: rules ?? [
        {
          name: "admin",
          matches: [{ path: { type: "PathPrefix", value: "/admin" } }],
          backendRefs: [backend("admin", 1)],
        },
        { name: "primary", timeouts: { request: "2s" }, backendRefs: [backend("reviews-v1", 1)] },
      ],
    },
  };
}

const intent: MeshIntent = {
  canary: "default/reviews",
  host: "reviews.default.svc.cluster.local",
  routeName: "primary",
  active: true,
  weights: [
    { variant: "stable", subset: "reviews-v1", weightBp: 9900 },
    { variant: "canary", subset: "reviews-v2", weightBp: 100 },
  ],
};

function plan(observed: HttpRouteObject, wanted: MeshIntent) {
  const snapshot = structuredClone(observed);
  const result = planHttpRoute(observed, wanted);
  expect(observed).toEqual(snapshot);
  return result;
}

function planned(observed: HttpRouteObject, wanted: MeshIntent = intent): HttpRouteObject {
  const result = plan(observed, wanted);
  if ("error" in result) throw new Error(`unexpected: ${result.condition}: ${result.error}`);
  return result.route;
}

const rules = (r: HttpRouteObject) => r.spec?.rules ?? [];
const ruleNamed = (r: HttpRouteObject, name: string) => rules(r).find((x) => x.name === name);

/** What a Gateway API API server's CRD defaults add on write (HTTPRoute v1.6 standard schema). */
function serverDefaults(r: HttpRouteObject): HttpRouteObject {
  const out = structuredClone(r);
  for (const rule of out.spec?.rules ?? []) {
    rule.matches = (rule.matches?.length ? rule.matches : [{}]).map((m) => ({
      ...m,
      path: { type: m.path?.type ?? "PathPrefix", value: m.path?.value ?? "/" },
      ...(m.headers ? { headers: m.headers.map((h) => ({ type: "Exact" as const, ...h })) } : {}),
    }));
    rule.backendRefs = rule.backendRefs?.map((b) => ({ group: "", kind: "Service", weight: 1, ...b }));
  }
  return out;
}

describe("planHttpRoute: activation", () => {
  const after = planned(route());

  it("adds one exact header rule per variant above the user's rules and weights the target in basis points", () => {
    expect(rules(after).map((r) => r.name)).toEqual([
      "meshcanary-reviews-stable",
      "meshcanary-reviews-canary",
      "admin",
      "primary",
    ]);
    expect(ruleNamed(after, "meshcanary-reviews-canary")).toEqual({
      name: "meshcanary-reviews-canary",
      timeouts: { request: "2s" },
      matches: [
        {
          path: { type: "PathPrefix", value: "/" },
          headers: [{ type: "Exact", name: "x-meshcanary-variant", value: "canary" }],
        },
      ],
      backendRefs: [backend("reviews-v2", 1)],
    });
    expect(ruleNamed(after, "primary")?.backendRefs).toEqual([
      backend("reviews-v1", 9900),
      backend("reviews-v2", 100),
    ]);
    expect(ruleNamed(after, "admin")).toEqual(ruleNamed(route(), "admin"));
    expect(after.spec?.parentRefs).toEqual(route().spec?.parentRefs);
  });

  it("remembers the original backendRefs in the state annotation", () => {
    const state = JSON.parse(after.metadata?.annotations?.[STATE_ANNOTATION] ?? "{}");
    expect(state["default/reviews"].original).toEqual([backend("reviews-v1", 1)]);
    expect(state["default/reviews"].digest).toMatch(/^[0-9a-f]{16}$/);
  });

  it("re-planning its own output, or what a defaulting API server returns for it, changes nothing", () => {
    for (const observed of [after, serverDefaults(after)]) {
      const again = plan(observed, intent);
      if ("error" in again) throw new Error(again.error);
      expect(again.changed).toBe(false);
    }
  });

  it("keeps a 0.01% canary exact and leaves a 0% variant out of backendRefs", () => {
    const tiny = planned(route(), {
      ...intent,
      weights: [
        { variant: "stable", subset: "reviews-v1", weightBp: 9999 },
        { variant: "canary", subset: "reviews-v2", weightBp: 1 },
      ],
    });
    expect(ruleNamed(tiny, "primary")?.backendRefs?.map((b) => b.weight)).toEqual([9999, 1]);
    const none = planned(route(), {
      ...intent,
      weights: [
        { variant: "stable", subset: "reviews-v1", weightBp: 10000 },
        { variant: "canary", subset: "reviews-v2", weightBp: 0 },
      ],
    });
    expect(ruleNamed(none, "primary")?.backendRefs).toEqual([backend("reviews-v1", 10000)]);
  });

  it("ANDs the variant header into every match of the target rule", () => {
    const target: HttpRouteRule = {
      name: "primary",
      matches: [
        { path: { type: "Exact", value: "/a" }, method: "GET" },
        { path: { type: "PathPrefix", value: "/b" }, headers: [{ name: "x-tenant", value: "t1" }] },
      ],
      backendRefs: [backend("reviews-v1", 1)],
    };
    const split = planned(route([target]));
    expect(ruleNamed(split, "meshcanary-reviews-stable")?.matches).toEqual([
      {
        path: { type: "Exact", value: "/a" },
        method: "GET",
        headers: [{ type: "Exact", name: "x-meshcanary-variant", value: "stable" }],
      },
      {
        path: { type: "PathPrefix", value: "/b" },
        headers: [
          { type: "Exact", name: "x-tenant", value: "t1" },
          { type: "Exact", name: "x-meshcanary-variant", value: "stable" },
        ],
      },
    ]);
  });

  it("renders pin header and pin cookie rules (cookie as an RE2 regex on the Cookie header)", () => {
    const pinned = planned(route(), {
      ...intent,
      pins: { header: "x-meshcanary-pin", cookie: "meshcanary-pin" },
    });
    expect(rules(pinned).map((r) => r.name)).toEqual([
      "meshcanary-reviews-stable",
      "meshcanary-reviews-canary",
      "meshcanary-reviews-pin-stable",
      "meshcanary-reviews-pin-canary",
      "meshcanary-reviews-pin-cookie-stable",
      "meshcanary-reviews-pin-cookie-canary",
      "admin",
      "primary",
    ]);
    expect(ruleNamed(pinned, "meshcanary-reviews-pin-cookie-canary")?.matches?.[0]?.headers).toEqual([
      { type: "RegularExpression", name: "cookie", value: "^(.*;\\s*)?meshcanary-pin=canary(;.*)?$" },
    ]);
    // Turning pins off removes their rules again.
    const unpinned = planned(pinned);
    expect(rules(unpinned).map((r) => r.name)).toEqual(rules(after).map((r) => r.name));
  });
});

describe("planHttpRoute: finish, abort, delete", () => {
  const after = planned(route());

  it("deactivation restores the original route exactly (rollback, abort, Canary deleted)", () => {
    expect(planned(after, { ...intent, active: false, weights: [] })).toEqual(route());
  });

  it("promotion sends the target rule to the final backend and forgets the state", () => {
    const done = planned(after, { ...intent, active: false, weights: [], finalSubset: "reviews-v2" });
    expect(rules(done).map((r) => r.name)).toEqual(["admin", "primary"]);
    expect(ruleNamed(done, "primary")?.backendRefs).toEqual([backend("reviews-v2", 1)]);
    expect(done.metadata?.annotations).toBeUndefined();
  });

  it("restore finds its target rule without a rule name by the backends it remembers", () => {
    const unnamed = { ...intent, routeName: undefined };
    const active = planned(route(), unnamed);
    expect(planned(active, { ...unnamed, active: false, weights: [] })).toEqual(route());
  });

  it("an inactive canary without state leaves the route alone", () => {
    const result = plan(route(), { ...intent, active: false, weights: [], finalSubset: "reviews-v2" });
    if ("error" in result) throw new Error(result.error);
    expect(result.changed).toBe(false);
  });
});

describe("planHttpRoute: never clobbers", () => {
  const after = planned(route());
  const edit = (f: (r: HttpRouteObject) => void) => {
    const copy = structuredClone(after);
    f(copy);
    return copy;
  };

  it.each([
    [
      "someone re-weighted the target rule",
      (r: HttpRouteObject) => {
        ruleNamed(r, "primary")!.backendRefs = [backend("reviews-v1", 50), backend("reviews-v2", 50)];
      },
      'backendRefs of rule "primary"',
    ],
    [
      "someone edited one of our rules",
      (r: HttpRouteObject) => {
        ruleNamed(r, "meshcanary-reviews-canary")!.backendRefs = [backend("reviews-v3", 1)];
      },
      'rule "meshcanary-reviews-canary"',
    ],
    [
      "someone deleted one of our rules",
      (r: HttpRouteObject) => {
        r.spec!.rules = rules(r).filter((x) => x.name !== "meshcanary-reviews-stable");
      },
      'rule "meshcanary-reviews-stable (deleted)"',
    ],
  ])("%s: ForeignEdit naming it on a weight change; a restore is refused too", (_, change, named) => {
    const edited = edit(change);
    const reweighted = plan(edited, {
      ...intent,
      weights: [
        { variant: "stable", subset: "reviews-v1", weightBp: 9500 },
        { variant: "canary", subset: "reviews-v2", weightBp: 500 },
      ],
    });
    expect(reweighted).toMatchObject({ condition: "ForeignEdit" });
    expect("error" in reweighted && reweighted.error).toContain(named);
    const restored = plan(edited, { ...intent, active: false, weights: [] });
    expect(restored).toMatchObject({ condition: "ForeignEdit" });
    expect("error" in restored && restored.error).toContain("changed outside meshcanary");
  });

  it("leaves edits to rules it does not own in place and plans around them", () => {
    const edited = edit((r) => {
      ruleNamed(r, "admin")!.backendRefs = [backend("admin-v2", 1)];
      r.spec!.rules!.splice(0, 0, { name: "late", backendRefs: [backend("late", 1)] });
    });
    const next = planned(edited, {
      ...intent,
      weights: [
        { variant: "stable", subset: "reviews-v1", weightBp: 7500 },
        { variant: "canary", subset: "reviews-v2", weightBp: 2500 },
      ],
    });
    expect(ruleNamed(next, "admin")?.backendRefs).toEqual([backend("admin-v2", 1)]);
    expect(rules(next).map((r) => r.name)).toEqual(rules(edited).map((r) => r.name));
    expect(ruleNamed(next, "primary")?.backendRefs?.map((b) => b.weight)).toEqual([7500, 2500]);
  });

  it("rules with its name prefix but no state annotation are someone else's", () => {
    const stray = route([
      { name: "meshcanary-reviews-canary", backendRefs: [backend("reviews-v2", 1)] },
      { name: "primary", backendRefs: [backend("reviews-v1", 1)] },
    ]);
    const result = plan(stray, intent);
    expect(result).toMatchObject({ condition: "ForeignEdit" });
  });

  it("two canaries on one route keep separate rules and state", () => {
    const two = route([
      { name: "primary", backendRefs: [backend("reviews-v1", 1)] },
      {
        name: "ratings",
        matches: [{ path: { type: "PathPrefix", value: "/ratings" } }],
        backendRefs: [backend("ratings-v1", 1)],
      },
    ]);
    const ratings: MeshIntent = {
      ...intent,
      canary: "default/reviews-web",
      routeName: "ratings",
      weights: [
        { variant: "stable", subset: "ratings-v1", weightBp: 5000 },
        { variant: "canary", subset: "ratings-v2", weightBp: 5000 },
      ],
    };
    const both = planned(planned(two), ratings);
    const restored = planned(both, { ...intent, active: false, weights: [] });
    expect(rules(restored).map((r) => r.name)).toEqual([
      "meshcanary-reviews-web-stable",
      "meshcanary-reviews-web-canary",
      "primary",
      "ratings",
    ]);
    expect(ruleNamed(restored, "primary")?.backendRefs).toEqual([backend("reviews-v1", 1)]);
    expect(planned(restored, { ...ratings, active: false, weights: [] })).toEqual(two);
  });
});

describe("planHttpRoute: what it refuses, and why", () => {
  it.each<[string, HttpRouteObject, MeshIntent, string, string]>([
    [
      "no rule of that name",
      route(),
      { ...intent, routeName: "main" },
      "TargetRouteMissing",
      'no rule named "main"',
    ],
    [
      "a backend that is not a Service",
      route([
        { name: "primary", backendRefs: [{ group: "example.io", kind: "Bucket", name: "b", port: 1 }] },
      ]),
      intent,
      "TargetRouteMissing",
      "backendRefs[0] (b) is a example.io/Bucket",
    ],
    [
      "a Service backend without a port",
      route([{ name: "primary", backendRefs: [{ name: "reviews-v1" }] }]),
      intent,
      "TargetRouteMissing",
      "has no port",
    ],
    [
      "a backend in another namespace",
      route([{ name: "primary", backendRefs: [{ ...backend("reviews-v1"), namespace: "other" }] }]),
      intent,
      "TargetRouteMissing",
      "is in namespace other",
    ],
    [
      "a target that already matches the variant header",
      route([
        {
          name: "primary",
          matches: [{ headers: [{ name: "X-Meshcanary-Variant", value: "x" }] }],
          backendRefs: [backend("reviews-v1", 1)],
        },
      ]),
      intent,
      "InvalidIntent",
      'already matches header "x-meshcanary-variant"',
    ],
    [
      "more rules than Gateway API allows",
      route(
        Array.from({ length: 12 }, (_, i) => ({
          name: i === 0 ? "primary" : `r${i}`,
          matches: [{ path: { type: "PathPrefix" as const, value: `/r${i}` } }],
          backendRefs: [backend(i === 0 ? "reviews-v1" : `s${i}`, 1)],
        })),
      ),
      { ...intent, pins: { header: "x-meshcanary-pin", cookie: "meshcanary-pin" } },
      "InvalidIntent",
      "needs 18 rules, Gateway API allows 16",
    ],
    [
      "several rules, none naming a known backend",
      route([
        { name: "a", backendRefs: [backend("x", 1)] },
        { name: "b", backendRefs: [backend("y", 1)] },
      ]),
      { ...intent, routeName: undefined },
      "TargetRouteMissing",
      "name the rule to split",
    ],
    [
      "a malformed state annotation",
      { ...route(), metadata: { name: "reviews", annotations: { [STATE_ANNOTATION]: "[1]" } } },
      intent,
      "ForeignEdit",
      "expected a JSON object",
    ],
    [
      "an invalid intent",
      route(),
      { ...intent, weights: [{ variant: "stable", subset: "reviews-v1", weightBp: 5000 }] },
      "InvalidIntent",
      "weightBp must sum to 10000, got 5000",
    ],
  ])("%s", (_, observed, wanted, condition, message) => {
    const result = plan(observed, wanted);
    if (!("error" in result)) throw new Error(`expected ${condition}`);
    expect(result.condition).toBe(condition);
    expect(result.error).toContain(message);
  });
});

describe("planHttpRoute: the rollout marker (controller/mesh/variant-match.ts)", () => {
  const marker = "0123456789abcdef0123456789abcdef";
  const withTargetModifier = route([
    {
      name: "primary",
      filters: [{ type: "RequestHeaderModifier", requestHeaderModifier: { remove: ["x-debug"] } }],
      backendRefs: [backend("reviews-v1", 1)],
    },
  ]);
  const after = planned(withTargetModifier, { ...intent, marker });

  it("a variant rule needs the variant header and the marker, and removes the marker before the backend", () => {
    const canary = ruleNamed(after, "meshcanary-reviews-canary");
    expect(canary?.matches?.[0]?.headers).toEqual([
      { type: "Exact", name: "x-meshcanary-variant", value: "canary" },
      { type: "Exact", name: "x-meshcanary-marker", value: marker },
    ]);
    // Gateway API allows one RequestHeaderModifier per rule: the marker joins the target's own.
    expect(canary?.filters).toEqual([
      {
        type: "RequestHeaderModifier",
        requestHeaderModifier: { remove: ["x-debug", "x-meshcanary-marker"] },
      },
    ]);
  });

  it("the target rule (the weighted fallback for unmarked requests) keeps its own filters only", () => {
    expect(ruleNamed(after, "primary")?.filters).toEqual(withTargetModifier.spec?.rules?.[0]?.filters);
  });
});
