/**
 * Kubernetes access for the API and dashboard: the caller presents their own Kubernetes bearer
 * token; TokenReview says who they are, and a SubjectAccessReview per Canary says whether they may
 * `get` it (read) or `patch` it (command), exactly as the API server would decide for kubectl.
 * Answers are cached briefly (default 10 s) so a dashboard does not cost a review per request;
 * revoking access therefore takes effect within that time.
 */
import { createHash } from "node:crypto";
import {
  type AccessReviews,
  type AccessVerdict,
  CANARY_GROUP,
  CANARY_RESOURCE,
  type CanaryAccess,
  type ReviewedUser,
} from "../kube/access-reviews.js";
import type { KubeResult } from "../kube/errors.js";
import type { ApiAccess, ApiCaller, CanaryVerb } from "./access.js";
import { bearerToken } from "./access.js";
import { type HttpError, httpError } from "./respond.js";

export interface KubeAccessOptions {
  /** How long a review's answer is reused, ms; default 10 000. */
  cacheMs?: number;
  /** Most cached answers (oldest dropped first); default 10 000. */
  maxEntries?: number;
  now?: () => number;
}

/** A small time-bounded cache of review answers (errors are never cached). */
class ReviewCache<T> {
  private readonly entries = new Map<string, { at: number; value: T }>();
  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number,
  ) {}

  async get(key: string, load: () => Promise<KubeResult<T>>): Promise<KubeResult<T>> {
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return { ok: true, value: hit.value };
    const loaded = await load();
    if (loaded.ok) {
      this.entries.delete(key);
      this.entries.set(key, { at: this.now(), value: loaded.value });
      if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    }
    return loaded;
  }
}

function describe(access: CanaryAccess): string {
  const what = access.name
    ? `${CANARY_RESOURCE}.${CANARY_GROUP} "${access.name}"`
    : `${CANARY_RESOURCE}.${CANARY_GROUP}`;
  return access.namespace ? `${what} in namespace "${access.namespace}"` : `${what} at the cluster scope`;
}

function unavailable(what: string, message: string): HttpError {
  return httpError(503, `${what} with the Kubernetes API failed: ${message}`, { "retry-after": "5" });
}

export function kubeAccess(reviews: AccessReviews, opts: KubeAccessOptions = {}): ApiAccess {
  const now = opts.now ?? Date.now;
  const ttl = opts.cacheMs ?? 10_000;
  const max = opts.maxEntries ?? 10_000;
  const users = new ReviewCache<ReviewedUser | undefined>(ttl, max, now);
  const verdicts = new ReviewCache<AccessVerdict>(ttl, max, now);

  const caller = (user: ReviewedUser): ApiCaller => {
    const review = (access: CanaryAccess) =>
      verdicts.get(JSON.stringify([user.username, user.groups, access]), () =>
        reviews.subjectAccessReview(user, access),
      );
    return {
      user: user.username,
      authenticated: true,
      async may(verb: CanaryVerb, namespace: string, name: string) {
        const access = { verb, namespace, name };
        const r = await review(access);
        if (!r.ok) return unavailable("authorizing", r.error.message);
        if (r.value.allowed) return true;
        const why = r.value.reason ? `: ${r.value.reason}` : "";
        return httpError(403, `user "${user.username}" cannot ${verb} ${describe(access)}${why}`);
      },
      async mayListAll() {
        const r = await review({ verb: "list", namespace: "", name: "" });
        return r.ok && r.value.allowed;
      },
    };
  };

  return {
    async caller(headers) {
      const token = bearerToken(headers);
      if (token === undefined) {
        return httpError(
          401,
          "missing Authorization: Bearer <Kubernetes token> header (e.g. use `meshcanary dashboard`)",
          {
            "www-authenticate": "Bearer",
          },
        );
      }
      // The token itself is never a map key: only its digest is kept.
      const key = createHash("sha256").update(token).digest("hex");
      const r = await users.get(key, () => reviews.tokenReview(token));
      if (!r.ok) return unavailable("authenticating", r.error.message);
      if (r.value === undefined) {
        return httpError(401, "the Kubernetes API server did not authenticate this bearer token", {
          "www-authenticate": 'Bearer error="invalid_token"',
        });
      }
      return caller(r.value);
    },
  };
}
