/**
 * Authentication for the embedded server: the admin bearer token (system:masters) and ServiceAccount
 * tokens issued by the TokenRequest subresource. A ServiceAccount token is signed with a key derived
 * from the admin token, so it stays valid across a restart with the same token (as a real server's
 * tokens do with the same signing key), and is bound to the ServiceAccount's uid: deleting the
 * ServiceAccount revokes it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { SUPERUSER_GROUP, type UserInfo } from "./rbac.js";

const PREFIX = "meshcanary-sa";

/** The claims a ServiceAccount token carries. */
export interface ServiceAccountClaims {
  namespace: string;
  name: string;
  uid: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/** The identity the admin token authenticates as. */
export const ADMIN_USER: UserInfo = {
  name: "meshcanary-sandbox",
  groups: [SUPERUSER_GROUP, "system:authenticated"],
};

/** The user kube-apiserver derives from a ServiceAccount token. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
  };
}

function sign(secret: string, payload: string): string {
  return createHmac("sha256", `serviceaccount-signing:${secret}`).update(payload).digest("base64url");
}

/** A token for the claims, signed with the server's secret. */
export function issueServiceAccountToken(secret: string, claims: ServiceAccountClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${PREFIX}.${payload}.${sign(secret, payload)}`;
}

/** The claims of a well-signed, unexpired token, or undefined. */
export function verifyServiceAccountToken(
  secret: string,
  token: string,
  nowSeconds: number,
): ServiceAccountClaims | undefined {
  const [prefix, payload, signature, ...rest] = token.split(".");
  if (prefix !== PREFIX || !payload || !signature || rest.length > 0) return undefined;
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  let claims: ServiceAccountClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as ServiceAccountClaims;
  } catch {
    return undefined;
  }
  if (typeof claims.exp !== "number" || claims.exp <= nowSeconds) return undefined;
  return claims;
}

/**
 * The user a bearer header authenticates as, or undefined (401). `serviceAccountUid` looks up the
 * current uid of a ServiceAccount, so a token for a deleted or re-created one is refused.
 */
export function authenticate(
  authorization: string | undefined,
  adminToken: string,
  serviceAccountUid: (namespace: string, name: string) => string | undefined,
  nowSeconds: number,
): UserInfo | undefined {
  if (!authorization?.startsWith("Bearer ")) return undefined;
  const token = authorization.slice("Bearer ".length);
  if (token === adminToken) return ADMIN_USER;
  const claims = verifyServiceAccountToken(adminToken, token, nowSeconds);
  if (!claims || serviceAccountUid(claims.namespace, claims.name) !== claims.uid) return undefined;
  return serviceAccountUser(claims.namespace, claims.name);
}
