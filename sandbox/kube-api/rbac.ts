/**
 * RBAC authorization as kube-apiserver's RBAC authorizer decides it (k8s.io/kubernetes
 * plugin/pkg/auth/authorizer/rbac): a request is allowed when a rule of a Role or ClusterRole bound to
 * the user matches it. Pure: the bindings and roles are passed in. Aggregated ClusterRoles
 * (aggregationRule) are not expanded; the sandbox's install has none.
 */

/** Who is asking: what authentication established. */
export interface UserInfo {
  /** e.g. "system:serviceaccount:meshcanary-system:meshcanary-controller". */
  name: string;
  groups: string[];
}

/** One request as the authorizer sees it (k8s authorizer.Attributes). */
export type RequestAttributes =
  | {
      resourceRequest: true;
      /** get, list, watch, create, update, patch, delete, deletecollection. */
      verb: string;
      apiGroup: string;
      /** Plural, e.g. "canaries". */
      resource: string;
      /** e.g. "status" for canaries/status; "" for none. */
      subresource: string;
      /** "" for cluster-scoped requests. */
      namespace: string;
      /** "" for collection requests. */
      name: string;
    }
  | { resourceRequest: false; verb: string; path: string };

/** One rule of a Role or ClusterRole (rbac.authorization.k8s.io/v1 PolicyRule). */
export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

export interface RoleObject {
  metadata: { name?: string; namespace?: string };
  rules?: PolicyRule[];
}

export interface BindingObject {
  metadata: { name?: string; namespace?: string };
  roleRef?: { kind?: string; name?: string };
  subjects?: Subject[];
}

/** The RBAC objects in force. */
export interface RbacPolicy {
  roles: RoleObject[];
  clusterRoles: RoleObject[];
  roleBindings: BindingObject[];
  clusterRoleBindings: BindingObject[];
}

const ALL = "*";
export const SUPERUSER_GROUP = "system:masters";

/**
 * What kube-apiserver's bootstrap policy gives every authenticated user and that the sandbox does
 * not store as objects: discovery (system:discovery, system:public-info-viewer) and asking about
 * one's own access (system:basic-user).
 */
export const BOOTSTRAP_POLICY: RbacPolicy = {
  roles: [],
  roleBindings: [],
  clusterRoles: [
    {
      metadata: { name: "system:discovery" },
      rules: [
        {
          verbs: ["get"],
          nonResourceURLs: [
            "/api",
            "/api/*",
            "/apis",
            "/apis/*",
            "/openapi",
            "/openapi/*",
            "/version",
            "/version/",
          ],
        },
      ],
    },
    {
      metadata: { name: "system:public-info-viewer" },
      rules: [
        { verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"] },
      ],
    },
    {
      metadata: { name: "system:basic-user" },
      rules: [
        {
          apiGroups: ["authorization.k8s.io"],
          resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
          verbs: ["create"],
        },
      ],
    },
  ],
  clusterRoleBindings: ["system:discovery", "system:public-info-viewer", "system:basic-user"].map((name) => ({
    metadata: { name },
    roleRef: { kind: "ClusterRole", name },
    subjects: [{ kind: "Group", name: "system:authenticated" }],
  })),
};

function has(list: string[] | undefined, value: string): boolean {
  return (list ?? []).some((v) => v === ALL || v === value);
}

function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some(
    (r) => r === ALL || r === combined || (subresource !== "" && r === `*/${subresource}`),
  );
}

function nonResourceMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some(
    (u) => u === ALL || u === path || (u.endsWith("*") && path.startsWith(u.slice(0, -1))),
  );
}

/** Whether one rule allows the request (rbac/v1 RuleAllows). */
export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) return nonResourceMatches(rule, a.path);
  if (!has(rule.apiGroups, a.apiGroup) || !resourceMatches(rule, a.resource, a.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name);
}

/** Whether a binding's subject is this user; a ServiceAccount subject without namespace means the binding's. */
function subjectIs(s: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (s.kind) {
    case "User":
      return s.name === user.name;
    case "Group":
      return s.name !== undefined && user.groups.includes(s.name);
    case "ServiceAccount":
      return user.name === `system:serviceaccount:${s.namespace || bindingNamespace}:${s.name}`;
    default:
      return false;
  }
}

/** The rules a binding grants: its Role (in its own namespace) or ClusterRole; none if the role is missing. */
function boundRules(b: BindingObject, policy: RbacPolicy): PolicyRule[] {
  const ref = b.roleRef;
  const role =
    ref?.kind === "ClusterRole"
      ? policy.clusterRoles.find((r) => r.metadata.name === ref.name)
      : ref?.kind === "Role"
        ? policy.roles.find(
            (r) => r.metadata.name === ref.name && r.metadata.namespace === b.metadata.namespace,
          )
        : undefined;
  return role?.rules ?? [];
}

/**
 * The decision: system:masters may do anything; anyone else what a ClusterRoleBinding grants anywhere,
 * or a RoleBinding grants in its own namespace. Nothing is denied explicitly; no match means forbidden.
 */
export function authorize(user: UserInfo, a: RequestAttributes, policy: RbacPolicy): boolean {
  if (user.groups.includes(SUPERUSER_GROUP)) return true;
  const grants = (b: BindingObject): boolean =>
    (b.subjects ?? []).some((s) => subjectIs(s, user, b.metadata.namespace ?? "")) &&
    boundRules(b, policy).some((rule) => ruleAllows(rule, a));
  if (policy.clusterRoleBindings.some(grants)) return true;
  if (!a.resourceRequest || a.namespace === "") return false;
  return policy.roleBindings.some((b) => b.metadata.namespace === a.namespace && grants(b));
}

/** kube-apiserver's Forbidden message (apiserver responsewriters.forbiddenMessage + NewForbidden). */
export function forbiddenMessage(user: UserInfo, a: RequestAttributes): string {
  if (!a.resourceRequest) return `forbidden: User "${user.name}" cannot ${a.verb} path "${a.path}"`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  const why = `User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  return a.name ? `${qualified} "${a.name}" is forbidden: ${why}` : `${qualified} is forbidden: ${why}`;
}
