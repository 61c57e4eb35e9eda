/**
 * The embedded server over HTTP with a ServiceAccount token: TokenRequest, RBAC enforcement from the
 * stored Roles and bindings, revocation by deleting the ServiceAccount, tokens kept across a restart
 * with the same admin token, and the review resources answering from the same decision.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { embeddedRequest } from "../controller/harness.js";
import { serviceAccountToken } from "../helpers/kube-apply.js";

const ADMIN = "admin-token";
const USER = "system:serviceaccount:ops:ctl";
let server: KubeApiServer | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dataDir?: string) {
  server = await startKubeApi({ port: 0, token: ADMIN, dataDir });
  return server;
}

const as = (s: KubeApiServer, token: string) => embeddedRequest({ url: s.url, token });

async function install(s: KubeApiServer): Promise<string> {
  const admin = as(s, ADMIN);
  const objects: [string, unknown][] = [
    ["/api/v1/namespaces", { metadata: { name: "ops" } }],
    ["/api/v1/namespaces/ops/serviceaccounts", { metadata: { name: "ctl" } }],
    [
      "/apis/rbac.authorization.k8s.io/v1/namespaces/ops/roles",
      {
        metadata: { name: "cm" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "create"] }],
      },
    ],
    [
      "/apis/rbac.authorization.k8s.io/v1/namespaces/ops/rolebindings",
      {
        metadata: { name: "cm" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "cm" },
        subjects: [{ kind: "ServiceAccount", name: "ctl", namespace: "ops" }],
      },
    ],
  ];
  for (const [path, body] of objects) {
    const r = await admin("POST", path, body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  return serviceAccountToken(admin, "ops", "ctl");
}

describe("embedded kube-api: ServiceAccount tokens and RBAC", () => {
  it("issues a token that is allowed what the Role grants and forbidden the rest", async () => {
    const s = await start();
    const ctl = as(s, await install(s));
    const cm = { metadata: { name: "c" }, data: { a: "b" } };
    expect((await ctl("POST", "/api/v1/namespaces/ops/configmaps", cm)).status).toBe(201);
    expect((await ctl("GET", "/api/v1/namespaces/ops/configmaps/c")).status).toBe(200);
    const del = await ctl("DELETE", "/api/v1/namespaces/ops/configmaps/c");
    expect(del.status).toBe(403);
    expect(del.body).toMatchObject({
      reason: "Forbidden",
      message: `configmaps "c" is forbidden: User "${USER}" cannot delete resource "configmaps" in API group "" in the namespace "ops"`,
      details: { name: "c", group: "", kind: "configmaps" },
    });
    expect((await ctl("GET", "/api/v1/namespaces/default/configmaps/c")).status).toBe(403);
    // Discovery is open to every authenticated user, as kube-apiserver's bootstrap policy has it.
    expect((await ctl("GET", "/apis")).status).toBe(200);
    // Not allowed to mint tokens for itself (serviceaccounts/token is not granted).
    const mint = await ctl("POST", "/api/v1/namespaces/ops/serviceaccounts/ctl/token", { spec: {} });
    expect(mint.status).toBe(403);
    // The admin token stays all-powerful.
    expect((await as(s, ADMIN)("DELETE", "/api/v1/namespaces/ops/configmaps/c")).status).toBe(200);
  });

  it("answers the review resources from the same decision", async () => {
    const s = await start();
    const token = await install(s);
    const ssar = (verb: string) =>
      as(s, token)("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { namespace: "ops", verb, resource: "configmaps" } },
      });
    expect((await ssar("get")).body.status.allowed).toBe(true);
    expect((await ssar("delete")).body.status.allowed).toBe(false);
    const review = await as(s, ADMIN)("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
      kind: "TokenReview",
      spec: { token },
    });
    expect(review.body.status).toEqual({
      authenticated: true,
      user: {
        username: USER,
        groups: ["system:serviceaccounts", "system:serviceaccounts:ops", "system:authenticated"],
      },
    });
  });

  it("refuses forged, short-lived and revoked tokens; keeps valid ones across a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "kube-api-sa-"));
    dirs.push(dataDir);
    let s = await start(dataDir);
    const token = await install(s);
    const forged = `${token.slice(0, -4)}AAAA`;
    expect((await as(s, forged)("GET", "/api/v1/namespaces/ops/configmaps")).status).toBe(401);
    const short = await as(s, ADMIN)("POST", "/api/v1/namespaces/ops/serviceaccounts/ctl/token", {
      spec: { expirationSeconds: 60 },
    });
    expect(short.status).toBe(422);
    expect(short.body.message).toContain("spec.expirationSeconds");
    const missing = await as(s, ADMIN)("POST", "/api/v1/namespaces/ops/serviceaccounts/nobody/token", {});
    expect(missing.status).toBe(404);

    await s.close();
    s = await start(dataDir);
    expect((await as(s, token)("GET", "/api/v1/namespaces/ops/configmaps")).status).toBe(403);
    expect(
      (await as(s, token)("POST", "/api/v1/namespaces/ops/configmaps", { metadata: { name: "x" } })).status,
    ).toBe(201);

    // Deleting and re-creating the ServiceAccount revokes tokens bound to the old one.
    expect((await as(s, ADMIN)("DELETE", "/api/v1/namespaces/ops/serviceaccounts/ctl")).status).toBe(200);
    await as(s, ADMIN)("POST", "/api/v1/namespaces/ops/serviceaccounts", { metadata: { name: "ctl" } });
    expect((await as(s, token)("GET", "/api/v1/namespaces/ops/configmaps/x")).status).toBe(401);
  });
});
