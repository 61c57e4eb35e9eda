/**
 * Who a Kubernetes bearer token belongs to (TokenReview) and whether that user may act on a Canary
 * (SubjectAccessReview), asked of the API server the way it answers kubectl. The controller's
 * ServiceAccount needs `create` on tokenreviews and subjectaccessreviews for these, nothing else.
 */
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { call, type KubeResult, ok } from "./errors.js";

/** The user a token authenticated as, as the API server knows them. */
export interface ReviewedUser {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** One Canary action to authorise: `verb` (get, list, patch) on canaries.meshcanary.io. */
export interface CanaryAccess {
  verb: "get" | "list" | "patch";
  /** Namespace; "" for every namespace (list). */
  namespace: string;
  /** Canary name; "" for the collection. */
  name: string;
}

/** A review's verdict: allowed, or denied with the authoriser's reason (may be ""). */
export type AccessVerdict = { allowed: true } | { allowed: false; reason: string };

export interface AccessReviews {
  /** The user of `token`, or undefined when the API server does not authenticate it. */
  tokenReview(token: string): Promise<KubeResult<ReviewedUser | undefined>>;
  subjectAccessReview(user: ReviewedUser, access: CanaryAccess): Promise<KubeResult<AccessVerdict>>;
}

export const CANARY_GROUP = "meshcanary.io";
export const CANARY_RESOURCE = "canaries";

export function kubeAccessReviews(kc: KubeConfig): AccessReviews {
  const authn = kc.makeApiClient(AuthenticationV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  // One attempt each: a caller waits on the answer, and a retry storm would not help a dead API.
  const once = { attempts: 1, baseDelayMs: 0, timeoutMs: 5000 };
  return {
    async tokenReview(token) {
      const r = await call(() => authn.createTokenReview({ body: { spec: { token } } }), once);
      if (!r.ok) return r;
      const status = r.value.status;
      if (!status?.authenticated || !status.user?.username) return ok(undefined);
      const u = status.user;
      return ok({
        username: u.username!,
        groups: u.groups ?? [],
        ...(u.uid ? { uid: u.uid } : {}),
        ...(u.extra ? { extra: u.extra } : {}),
      });
    },
    async subjectAccessReview(user, access) {
      const body = {
        spec: {
          user: user.username,
          groups: user.groups,
          ...(user.uid ? { uid: user.uid } : {}),
          ...(user.extra ? { extra: user.extra } : {}),
          resourceAttributes: {
            group: CANARY_GROUP,
            resource: CANARY_RESOURCE,
            verb: access.verb,
            ...(access.namespace ? { namespace: access.namespace } : {}),
            ...(access.name ? { name: access.name } : {}),
          },
        },
      };
      const r = await call(() => authz.createSubjectAccessReview({ body }), once);
      if (!r.ok) return r;
      const status = r.value.status;
      return ok(status?.allowed ? { allowed: true } : { allowed: false, reason: status?.reason ?? "" });
    },
  };
}
