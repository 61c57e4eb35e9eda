/**
 * The server's access control against its store: who a request is (admin token or a ServiceAccount
 * token), whether RBAC objects in the store allow it, and the TokenRequest subresource that issues
 * ServiceAccount tokens.
 */
import { authenticate, issueServiceAccountToken } from "./auth.js";
import type { AccessModel, Reply } from "./handlers.js";
import {
  authorize,
  BOOTSTRAP_POLICY,
  type BindingObject,
  forbiddenMessage,
  type RbacPolicy,
  type RequestAttributes,
  type RoleObject,
  type UserInfo,
} from "./rbac.js";
import { failure } from "./status.js";
import type { ObjectStore } from "./store.js";

const RBAC_GROUP = "rbac.authorization.k8s.io";
/** Default and minimum token lifetime of a TokenRequest, as kube-apiserver. */
const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;

function all(store: ObjectStore, group: string, plural: string): unknown[] {
  const type = store.registry.find(group, "v1", plural);
  return type ? store.list({ type, version: "v1", namespace: undefined }, () => true) : [];
}

/** The RBAC objects stored now, plus the bootstrap policy every cluster has. */
export function storedPolicy(store: ObjectStore): RbacPolicy {
  return {
    roles: all(store, RBAC_GROUP, "roles") as RoleObject[],
    clusterRoles: [
      ...BOOTSTRAP_POLICY.clusterRoles,
      ...(all(store, RBAC_GROUP, "clusterroles") as RoleObject[]),
    ],
    roleBindings: all(store, RBAC_GROUP, "rolebindings") as BindingObject[],
    clusterRoleBindings: [
      ...BOOTSTRAP_POLICY.clusterRoleBindings,
      ...(all(store, RBAC_GROUP, "clusterrolebindings") as BindingObject[]),
    ],
  };
}

function serviceAccount(store: ObjectStore, namespace: string, name: string) {
  const type = store.registry.find("", "v1", "serviceaccounts");
  if (!type) return undefined;
  const got = store.get({ type, version: "v1", namespace }, name);
  return got.ok ? got.value : undefined;
}

/** The authenticated user of an Authorization header, or undefined. */
export function requestUser(
  store: ObjectStore,
  authorization: string | undefined,
  adminToken: string,
): UserInfo | undefined {
  const uid = (ns: string, name: string) => serviceAccount(store, ns, name)?.metadata.uid;
  return authenticate(authorization, adminToken, uid, Math.floor(Date.now() / 1000));
}

/** The access control the review resources answer from, for a request by `requester`. */
export function accessModel(store: ObjectStore, adminToken: string, requester: UserInfo): AccessModel {
  return {
    requester,
    authenticateToken: (t) => requestUser(store, `Bearer ${t}`, adminToken),
    allowed: (user, a) => authorize(user, a, storedPolicy(store)),
  };
}

/** undefined when RBAC allows the request, else the 403 kube-apiserver answers. */
export function forbidden(store: ObjectStore, user: UserInfo, a: RequestAttributes): Reply | undefined {
  if (authorize(user, a, storedPolicy(store))) return undefined;
  const details = a.resourceRequest
    ? { ...(a.name ? { name: a.name } : {}), group: a.apiGroup, kind: a.resource }
    : undefined;
  return { status: 403, body: failure(403, "Forbidden", forbiddenMessage(user, a), details) };
}

/** POST .../serviceaccounts/<name>/token: a token for the ServiceAccount (TokenRequest, authentication.k8s.io/v1). */
export function tokenRequest(
  store: ObjectStore,
  adminToken: string,
  namespace: string,
  name: string,
  method: string,
  body: string,
): Reply {
  if (method !== "POST") {
    return {
      status: 405,
      body: failure(405, "MethodNotAllowed", "serviceaccounts/token only supports create"),
    };
  }
  const sa = serviceAccount(store, namespace, name);
  if (!sa) {
    return {
      status: 404,
      body: failure(404, "NotFound", `serviceaccounts "${name}" not found`, {
        name,
        kind: "serviceaccounts",
      }),
    };
  }
  let spec: { expirationSeconds?: unknown } = {};
  try {
    spec = (JSON.parse(body || "{}") as { spec?: typeof spec }).spec ?? {};
  } catch (e) {
    return {
      status: 400,
      body: failure(400, "BadRequest", `the request body is not valid JSON: ${(e as Error).message}`),
    };
  }
  const seconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < MIN_EXPIRATION_SECONDS) {
    const message = `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${JSON.stringify(seconds)}: may not specify a duration less than 10 minutes`;
    return {
      status: 422,
      body: failure(422, "Invalid", message, { name, group: "authentication.k8s.io", kind: "TokenRequest" }),
    };
  }
  const exp = Math.floor(Date.now() / 1000) + seconds;
  const token = issueServiceAccountToken(adminToken, { namespace, name, uid: sa.metadata.uid ?? "", exp });
  return {
    status: 201,
    body: {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name, namespace, creationTimestamp: null },
      spec: { audiences: [], expirationSeconds: seconds, boundObjectRef: null },
      status: { token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") },
    },
  };
}
