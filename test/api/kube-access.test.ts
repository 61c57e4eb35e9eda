// The API with Kubernetes access (controller/api/kube-access.ts) over real HTTP, with scripted
// TokenReview/SubjectAccessReview answers: reads, the live event stream and commands each follow
// the caller's own access; answers are cached for a while, failures are not. The same paths against
// real API servers: test/kube-real/operator-auth.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubeAccess } from "../../controller/api/kube-access.js";
import { createMetricsRegistry } from "../../controller/api/metrics.js";
import { type ApiServer, startApiServer } from "../../controller/api/server.js";
import type { AccessReviews, CanaryAccess, ReviewedUser } from "../../controller/kube/access-reviews.js";
import { FakeBackend, sampleCanary, samplePoint } from "./fake-backend.js";
import { openSse, request } from "./http-client.js";

const T0 = Date.UTC(2025, 0, 1, 12);
const VIEWER: ReviewedUser = { username: "viewer", groups: ["system:authenticated"] };
const ADMIN: ReviewedUser = { username: "admin", groups: ["system:authenticated", "ops"] };

/** TokenReview/SAR as scripted: viewer may get shop/checkout only; admin anything. */
class ScriptedReviews implements AccessReviews {
  calls = { token: 0, sar: 0 };
  failing = false;
  async tokenReview(token: string) {
    this.calls.token++;
    if (this.failing)
      return {
        ok: false as const,
        error: { reason: "Transient" as const, code: 0, message: "connection refused" },
      };
    return { ok: true as const, value: { "t-viewer": VIEWER, "t-admin": ADMIN }[token] };
  }
  async subjectAccessReview(user: ReviewedUser, a: CanaryAccess) {
    this.calls.sar++;
    const allowed =
      user.username === "admin" || (a.verb === "get" && a.namespace === "shop" && a.name === "checkout");
    return {
      ok: true as const,
      value: allowed ? { allowed: true as const } : { allowed: false as const, reason: "no RBAC rule" },
    };
  }
}

describe("API with Kubernetes access", () => {
  const backend = new FakeBackend();
  backend.add(sampleCanary("shop", "checkout", T0));
  backend.add(sampleCanary("ml", "ranker", T0));
  const reviews = new ScriptedReviews();
  const clock = { now: T0 };
  let server: ApiServer;
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    server = await startApiServer({
      port: 0,
      backend,
      access: kubeAccess(reviews, { cacheMs: 10_000, now: () => clock.now }),
      metricsRegistry: createMetricsRegistry({
        canaries: () => [],
        windows: () => [],
        defaultMetrics: false,
      }),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it("lists only the canaries the caller may get", async () => {
    const names = async (token: string) =>
      (
        (await request(`${server.url}/api/v1/canaries`, { headers: as(token) })).json() as {
          canaries: Array<{ name: string }>;
        }
      ).canaries
        .map((c) => c.name)
        .sort();
    expect(await names("t-admin")).toEqual(["checkout", "ranker"]);
    expect(await names("t-viewer")).toEqual(["checkout"]);
    const denied = await request(`${server.url}/api/v1/canaries/ml/ranker`, { headers: as("t-viewer") });
    expect(denied.status).toBe(403);
    expect((denied.json() as { error: { message: string } }).error.message).toBe(
      'user "viewer" cannot get canaries.meshcanary.io "ranker" in namespace "ml": no RBAC rule',
    );
  });

  it("streams a caller only the events of canaries they may get, in order", async () => {
    const sse = await openSse(`${server.url}/api/v1/events`, as("t-viewer"));
    expect(sse.status).toBe(200);
    for (let i = 0; i < 5; i++) {
      backend.appendPoint("ml", "ranker", samplePoint(T0 + i * 1000, i));
      backend.appendPoint("shop", "checkout", samplePoint(T0 + i * 1000, i));
    }
    await sse.until(() => sse.events.length >= 5);
    await new Promise((r) => setTimeout(r, 100));
    sse.close();
    const seen = sse.events as Array<{ namespace: string; point: { t: number } }>;
    expect(seen.map((e) => e.namespace)).toEqual(Array(5).fill("shop"));
    expect(seen.map((e) => e.point.t)).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * 1000));
  });

  it("commands need patch; the command carries the caller's name", async () => {
    const post = (token: string) =>
      request(`${server.url}/api/v1/canaries/shop/checkout/pause`, {
        method: "POST",
        headers: { ...as(token), "content-type": "application/json" },
        body: "{}",
      });
    expect((await post("t-viewer")).status).toBe(403);
    expect((await post("t-admin")).status).toBe(200);
    expect(backend.users.at(-1)).toBe("admin");
  });

  it("reuses answers for cacheMs, and never caches a failure", async () => {
    const before = reviews.calls.token;
    for (let i = 0; i < 3; i++) await request(`${server.url}/api/v1/whoami`, { headers: as("t-admin") });
    expect(reviews.calls.token).toBe(before);
    clock.now += 10_001;
    reviews.failing = true;
    const down = await request(`${server.url}/api/v1/whoami`, { headers: as("t-admin") });
    expect(down.status).toBe(503);
    expect(down.headers["retry-after"]).toBe("5");
    reviews.failing = false;
    const back = await request(`${server.url}/api/v1/whoami`, { headers: as("t-admin") });
    expect(back.json()).toEqual({ user: "admin", authenticated: true });
    expect(reviews.calls.token).toBe(before + 2);
  });

  it("takes the token from X-Meshcanary-Authorization too (the API server's service proxy consumes Authorization)", async () => {
    const r = await request(`${server.url}/api/v1/whoami`, {
      headers: { "x-meshcanary-authorization": "Bearer t-viewer" },
    });
    expect(r.json()).toEqual({ user: "viewer", authenticated: true });
    expect((await request(`${server.url}/api/v1/whoami`)).status).toBe(401);
  });
});
