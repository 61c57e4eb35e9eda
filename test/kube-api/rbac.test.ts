/** The embedded server's RBAC decision (sandbox/kube-api/rbac.ts) and request attributes, table-driven. */
import { describe, expect, it } from "vitest";
import { serviceAccountUser } from "../../sandbox/kube-api/auth.js";
import {
  authorize,
  BOOTSTRAP_POLICY,
  forbiddenMessage,
  type PolicyRule,
  type RbacPolicy,
  type RequestAttributes,
  type UserInfo,
} from "../../sandbox/kube-api/rbac.js";
import { requestAttributes } from "../../sandbox/kube-api/request-info.js";

const SA = serviceAccountUser("ops", "ctl");
const OTHER = serviceAccountUser("ops", "other");
const ADMIN: UserInfo = { name: "admin", groups: ["system:masters", "system:authenticated"] };

function res(
  verb: string,
  apiGroup: string,
  resource: string,
  namespace = "",
  name = "",
  subresource = "",
): RequestAttributes {
  return { resourceRequest: true, verb, apiGroup, resource, subresource, namespace, name };
}

const CLUSTER_RULES: PolicyRule[] = [
  {
    apiGroups: ["meshcanary.io"],
    resources: ["canaries"],
    verbs: ["get", "list", "watch", "patch", "update"],
  },
  { apiGroups: ["meshcanary.io"], resources: ["canaries/status"], verbs: ["get", "patch", "update"] },
  { apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["settings"] },
  { apiGroups: ["apps"], resources: ["*/scale"], verbs: ["update"] },
];

const POLICY: RbacPolicy = {
  clusterRoles: [
    { metadata: { name: "ctl" }, rules: CLUSTER_RULES },
    { metadata: { name: "everything" }, rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] },
    {
      metadata: { name: "secret-reader" },
      rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }],
    },
  ],
  clusterRoleBindings: [
    {
      metadata: { name: "ctl" },
      roleRef: { kind: "ClusterRole", name: "ctl" },
      subjects: [{ kind: "ServiceAccount", name: "ctl", namespace: "ops" }],
    },
    {
      metadata: { name: "dangling" },
      roleRef: { kind: "ClusterRole", name: "not-there" },
      subjects: [{ kind: "Group", name: "system:serviceaccounts" }],
    },
  ],
  roles: [
    {
      metadata: { name: "lease", namespace: "ops" },
      rules: [
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
      ],
    },
    {
      metadata: { name: "lease", namespace: "elsewhere" },
      rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }],
    },
  ],
  roleBindings: [
    // A subject without namespace is the binding's own namespace's ServiceAccount.
    {
      metadata: { name: "lease", namespace: "ops" },
      roleRef: { kind: "Role", name: "lease" },
      subjects: [{ kind: "ServiceAccount", name: "ctl" }],
    },
    // A RoleBinding granting a ClusterRole: only in its namespace.
    {
      metadata: { name: "read", namespace: "team" },
      roleRef: { kind: "ClusterRole", name: "secret-reader" },
      subjects: [{ kind: "Group", name: "system:serviceaccounts:ops" }],
    },
    // Refers to a Role of another namespace by name: resolves in its own namespace (where "lease" is narrow).
    {
      metadata: { name: "cross", namespace: "ops" },
      roleRef: { kind: "Role", name: "lease" },
      subjects: [{ kind: "User", name: OTHER.name }],
    },
    {
      metadata: { name: "all", namespace: "sandbox" },
      roleRef: { kind: "ClusterRole", name: "everything" },
      subjects: [{ kind: "User", name: OTHER.name }],
    },
  ],
};

describe("RBAC authorize", () => {
  const cases: [string, UserInfo, RequestAttributes, boolean][] = [
    ["admin may do anything", ADMIN, res("delete", "", "secrets", "kube-system", "x"), true],
    ["granted verb on the resource", SA, res("patch", "meshcanary.io", "canaries", "default", "c"), true],
    ["verb left out", SA, res("delete", "meshcanary.io", "canaries", "default", "c"), false],
    [
      "deletecollection is its own verb",
      SA,
      res("deletecollection", "meshcanary.io", "canaries", "default"),
      false,
    ],
    ["watch needs watch", SA, res("watch", "meshcanary.io", "canaries", ""), true],
    [
      "subresource needs its own rule",
      SA,
      res("update", "meshcanary.io", "canaries", "default", "c", "status"),
      true,
    ],
    [
      "no create on the status subresource",
      SA,
      res("create", "meshcanary.io", "canaries", "default", "c", "status"),
      false,
    ],
    [
      "a resource rule does not cover another group",
      SA,
      res("get", "other.io", "canaries", "default", "c"),
      false,
    ],
    ["resourceNames: the named object", SA, res("get", "", "configmaps", "default", "settings"), true],
    ["resourceNames: another object", SA, res("get", "", "configmaps", "default", "other"), false],
    ["resourceNames: a list has no name", SA, res("list", "", "configmaps", "default"), false],
    [
      "*/subresource matches any resource's",
      SA,
      res("update", "apps", "deployments", "d", "x", "scale"),
      true,
    ],
    ["*/subresource does not match the resource", SA, res("update", "apps", "deployments", "d", "x"), false],
    ["Role grants in its namespace", SA, res("create", "coordination.k8s.io", "leases", "ops"), true],
    ["Role does not grant elsewhere", SA, res("create", "coordination.k8s.io", "leases", "default"), false],
    ["Role does not grant cluster-wide", SA, res("list", "coordination.k8s.io", "leases", ""), false],
    ["RoleBinding to a ClusterRole, in its namespace", SA, res("get", "", "secrets", "team", "s"), true],
    ["RoleBinding to a ClusterRole, not elsewhere", SA, res("get", "", "secrets", "default", "s"), false],
    ["Role resolved in the binding's namespace", OTHER, res("delete", "", "pods", "ops", "p"), false],
    ["wildcards via a RoleBinding", OTHER, res("delete", "x.io", "y", "sandbox", "z"), true],
    ["wildcards stop at the namespace", OTHER, res("delete", "x.io", "y", "ops", "z"), false],
    [
      "another ServiceAccount is not the subject",
      OTHER,
      res("get", "meshcanary.io", "canaries", "default", "c"),
      false,
    ],
    ["a binding to a missing role grants nothing", OTHER, res("get", "", "pods", "ops", "p"), false],
    [
      "discovery for everyone authenticated",
      OTHER,
      { resourceRequest: false, verb: "get", path: "/apis/meshcanary.io/v1alpha1" },
      true,
    ],
    [
      "non-resource paths outside the bootstrap policy",
      OTHER,
      { resourceRequest: false, verb: "get", path: "/metrics" },
      false,
    ],
    [
      "self access reviews for everyone authenticated",
      OTHER,
      res("create", "authorization.k8s.io", "selfsubjectaccessreviews"),
      true,
    ],
  ];
  const withBootstrap: RbacPolicy = {
    ...POLICY,
    clusterRoles: [...POLICY.clusterRoles, ...BOOTSTRAP_POLICY.clusterRoles],
    clusterRoleBindings: [...POLICY.clusterRoleBindings, ...BOOTSTRAP_POLICY.clusterRoleBindings],
  };
  it.each(cases)("%s", (_, user, attrs, allowed) => {
    expect(authorize(user, attrs, withBootstrap)).toBe(allowed);
  });

  it("denies everything but admin without policy", () => {
    const empty: RbacPolicy = { roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [] };
    expect(authorize(SA, { resourceRequest: false, verb: "get", path: "/api" }, empty)).toBe(false);
    expect(authorize(ADMIN, res("get", "", "pods", "a", "b"), empty)).toBe(true);
  });
});

describe("forbiddenMessage (kube-apiserver wording)", () => {
  const u = SA.name;
  it.each<[RequestAttributes, string]>([
    [
      res("delete", "meshcanary.io", "canaries", "default", "x"),
      `canaries.meshcanary.io "x" is forbidden: User "${u}" cannot delete resource "canaries" in API group "meshcanary.io" in the namespace "default"`,
    ],
    [
      res("list", "", "secrets", "default"),
      `secrets is forbidden: User "${u}" cannot list resource "secrets" in API group "" in the namespace "default"`,
    ],
    [
      res("update", "meshcanary.io", "canaries", "d", "x", "status"),
      `canaries.meshcanary.io "x" is forbidden: User "${u}" cannot update resource "canaries/status" in API group "meshcanary.io" in the namespace "d"`,
    ],
    [
      res("list", "", "nodes"),
      `nodes is forbidden: User "${u}" cannot list resource "nodes" in API group "" at the cluster scope`,
    ],
    [
      { resourceRequest: false, verb: "get", path: "/metrics" },
      `forbidden: User "${u}" cannot get path "/metrics"`,
    ],
  ])("%j", (attrs, message) => {
    expect(forbiddenMessage(SA, attrs)).toBe(message);
  });
});

describe("requestAttributes (kube-apiserver RequestInfo)", () => {
  const q = (s = "") => new URLSearchParams(s);
  it.each<[string, string, string, Partial<RequestAttributes>]>([
    [
      "GET",
      "/apis/meshcanary.io/v1alpha1/namespaces/d/canaries",
      "",
      { verb: "list", apiGroup: "meshcanary.io", resource: "canaries", namespace: "d", name: "" },
    ],
    ["GET", "/apis/meshcanary.io/v1alpha1/namespaces/d/canaries", "watch=true", { verb: "watch" }],
    ["GET", "/apis/meshcanary.io/v1alpha1/canaries", "watch=1", { verb: "watch", namespace: "" }],
    [
      "GET",
      "/apis/meshcanary.io/v1alpha1/namespaces/d/canaries/c",
      "",
      { verb: "get", name: "c", subresource: "" },
    ],
    [
      "PUT",
      "/apis/meshcanary.io/v1alpha1/namespaces/d/canaries/c/status",
      "",
      { verb: "update", name: "c", subresource: "status" },
    ],
    ["PATCH", "/api/v1/namespaces/d/events/e", "", { verb: "patch", apiGroup: "", resource: "events" }],
    [
      "POST",
      "/api/v1/namespaces/d/serviceaccounts/s/token",
      "",
      { verb: "create", resource: "serviceaccounts", name: "s", subresource: "token" },
    ],
    ["DELETE", "/api/v1/namespaces/d/pods", "", { verb: "deletecollection", resource: "pods" }],
    ["DELETE", "/api/v1/namespaces/d/pods/p", "", { verb: "delete", name: "p" }],
    ["GET", "/api/v1/namespaces/d", "", { verb: "get", resource: "namespaces", namespace: "d", name: "d" }],
    [
      "PUT",
      "/api/v1/namespaces/d/finalize",
      "",
      { resource: "namespaces", name: "d", subresource: "finalize" },
    ],
    ["GET", "/api/v1/namespaces", "", { verb: "list", resource: "namespaces", namespace: "" }],
    ["GET", "/apis", "", { resourceRequest: false, verb: "get", path: "/apis" }],
    ["GET", "/apis/meshcanary.io", "", { resourceRequest: false }],
    ["GET", "/api/v1", "", { resourceRequest: false }],
    ["GET", "/version", "", { resourceRequest: false }],
  ])("%s %s?%s", (method, path, query, want) => {
    expect(requestAttributes(method, path, q(query))).toMatchObject(want);
  });
});
