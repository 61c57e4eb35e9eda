/**
 * The table of served resources. Adding a built-in type is one entry in BUILTIN_RESOURCES; custom
 * resources are added and removed as CustomResourceDefinitions are created and deleted.
 */
import type { SchemaNode } from "./schema.js";
import type { KubeObject, ResourceType } from "./types.js";

interface Entry {
  group: string;
  versions: string[];
  plural: string;
  kind: string;
  namespaced: boolean;
  status?: boolean;
  deleteReturns?: "object" | "status";
  shortNames?: string[];
}

const ISTIO_NETWORKING_VERSIONS = ["v1", "v1beta1", "v1alpha3"];

const ENTRIES: Entry[] = [
  {
    group: "",
    versions: ["v1"],
    plural: "namespaces",
    kind: "Namespace",
    namespaced: false,
    status: true,
    deleteReturns: "object",
    shortNames: ["ns"],
  },
  { group: "", versions: ["v1"], plural: "events", kind: "Event", namespaced: true, shortNames: ["ev"] },
  {
    group: "",
    versions: ["v1"],
    plural: "services",
    kind: "Service",
    namespaced: true,
    status: true,
    deleteReturns: "object",
    shortNames: ["svc"],
  },
  {
    group: "",
    versions: ["v1"],
    plural: "pods",
    kind: "Pod",
    namespaced: true,
    status: true,
    deleteReturns: "object",
    shortNames: ["po"],
  },
  {
    group: "",
    versions: ["v1"],
    plural: "configmaps",
    kind: "ConfigMap",
    namespaced: true,
    shortNames: ["cm"],
  },
  { group: "", versions: ["v1"], plural: "secrets", kind: "Secret", namespaced: true },
  {
    group: "",
    versions: ["v1"],
    plural: "serviceaccounts",
    kind: "ServiceAccount",
    namespaced: true,
    shortNames: ["sa"],
  },
  {
    group: "apps",
    versions: ["v1"],
    plural: "deployments",
    kind: "Deployment",
    namespaced: true,
    status: true,
    deleteReturns: "object",
    shortNames: ["deploy"],
  },
  {
    group: "events.k8s.io",
    versions: ["v1"],
    plural: "events",
    kind: "Event",
    namespaced: true,
    shortNames: ["ev"],
  },
  { group: "coordination.k8s.io", versions: ["v1"], plural: "leases", kind: "Lease", namespaced: true },
  {
    group: "apiextensions.k8s.io",
    versions: ["v1"],
    plural: "customresourcedefinitions",
    kind: "CustomResourceDefinition",
    namespaced: false,
    status: true,
    deleteReturns: "object",
    shortNames: ["crd", "crds"],
  },
  {
    group: "networking.istio.io",
    versions: ISTIO_NETWORKING_VERSIONS,
    plural: "virtualservices",
    kind: "VirtualService",
    namespaced: true,
    status: true,
    deleteReturns: "object",
    shortNames: ["vs"],
  },
  {
    group: "networking.istio.io",
    versions: ISTIO_NETWORKING_VERSIONS,
    plural: "destinationrules",
    kind: "DestinationRule",
    namespaced: true,
    status: true,
    deleteReturns: "object",
    shortNames: ["dr"],
  },
  // Stored so install manifests apply; RBAC is not enforced (the embedded server has one token).
  ...["roles", "rolebindings", "clusterroles", "clusterrolebindings"].map((plural) => ({
    group: "rbac.authorization.k8s.io",
    versions: ["v1"],
    plural,
    kind: `${plural.startsWith("cluster") ? "Cluster" : ""}${plural.includes("binding") ? "RoleBinding" : "Role"}`,
    namespaced: !plural.startsWith("cluster"),
    deleteReturns: "object" as const,
  })),
  ...[
    ["peerauthentications", "PeerAuthentication"],
    ["authorizationpolicies", "AuthorizationPolicy"],
  ].map(([plural, kind]) => ({
    group: "security.istio.io",
    versions: ["v1", "v1beta1"],
    plural: plural!,
    kind: kind!,
    namespaced: true,
    status: true,
    deleteReturns: "object" as const,
  })),
  // Stored so the controller's install (istio/controller/pdb.yaml) applies; never enforced here.
  {
    group: "policy",
    versions: ["v1"],
    plural: "poddisruptionbudgets",
    kind: "PodDisruptionBudget",
    namespaced: true,
    status: true,
    deleteReturns: "object",
    shortNames: ["pdb"],
  },
  // Served without its schema (like the Istio kinds): HTTPRoute's CEL rules cannot be evaluated
  // here, so the planner writes only what the real CRD accepts (test/kube-real checks it there).
  {
    group: "gateway.networking.k8s.io",
    versions: ["v1", "v1beta1"],
    plural: "httproutes",
    kind: "HTTPRoute",
    namespaced: true,
    status: true,
    deleteReturns: "object",
  },
  {
    group: "extensions.istio.io",
    versions: ["v1alpha1"],
    plural: "wasmplugins",
    kind: "WasmPlugin",
    namespaced: true,
    status: true,
    deleteReturns: "object",
  },
];

/** Built-in resource types served from the start. */
export const BUILTIN_RESOURCES: ResourceType[] = ENTRIES.map((e) => ({
  group: e.group,
  versions: e.versions,
  plural: e.plural,
  singular: e.kind.toLowerCase(),
  kind: e.kind,
  namespaced: e.namespaced,
  statusSubresource: e.status ?? false,
  allowUnconditionalUpdate: true,
  deleteReturns: e.deleteReturns ?? "status",
  shortNames: e.shortNames,
}));

/** Storage key of a resource: objects are shared by all its versions. */
export function resourceKey(group: string, plural: string): string {
  return `${group}/${plural}`;
}

/** A resource's name in API messages: "plural.group", or just "plural" for the core group. */
export function resourceName(type: ResourceType): string {
  return type.group === "" ? type.plural : `${type.plural}.${type.group}`;
}

/** Whether the type is CustomResourceDefinition, whose objects make new resources served. */
export function isCrdType(type: ResourceType): boolean {
  return type.group === "apiextensions.k8s.io" && type.plural === "customresourcedefinitions";
}

/** "group/version", or just "version" for the core group. */
export function apiVersionOf(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

/** Served types indexed by (group, version, plural). */
export class ResourceRegistry {
  private readonly types = new Map<string, ResourceType>();

  constructor(initial: ResourceType[] = BUILTIN_RESOURCES) {
    for (const t of initial) this.add(t);
  }

  add(type: ResourceType): void {
    this.types.set(resourceKey(type.group, type.plural), type);
  }

  remove(group: string, plural: string): void {
    this.types.delete(resourceKey(group, plural));
  }

  /** The type served at group/version/plural, if that version is served. */
  find(group: string, version: string, plural: string): ResourceType | undefined {
    const t = this.types.get(resourceKey(group, plural));
    return t?.versions.includes(version) ? t : undefined;
  }

  byKey(key: string): ResourceType | undefined {
    return this.types.get(key);
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }
}

/** Resource type a CustomResourceDefinition declares, or an error message naming the bad field. */
export function resourceFromCrd(crd: KubeObject): ResourceType | string {
  const spec = crd.spec as Record<string, unknown> | undefined;
  if (!spec || typeof spec !== "object") return "spec: Required value";
  const names = (spec.names ?? {}) as Record<string, unknown>;
  const group = spec.group;
  const plural = names.plural;
  const kind = names.kind;
  if (typeof group !== "string" || group === "") return `spec.group: Invalid value: ${JSON.stringify(group)}`;
  if (typeof plural !== "string" || plural === "")
    return `spec.names.plural: Invalid value: ${JSON.stringify(plural)}`;
  if (typeof kind !== "string" || kind === "")
    return `spec.names.kind: Invalid value: ${JSON.stringify(kind)}`;
  if (crd.metadata.name !== `${plural}.${group}`) {
    return `metadata.name: Invalid value: ${JSON.stringify(crd.metadata.name)}: must be spec.names.plural+"."+spec.group`;
  }
  const scope = spec.scope;
  if (scope !== "Namespaced" && scope !== "Cluster")
    return `spec.scope: Invalid value: ${JSON.stringify(scope)}`;
  const versions = Array.isArray(spec.versions) ? (spec.versions as Record<string, unknown>[]) : [];
  const served = versions.filter((v) => v.served !== false && typeof v.name === "string");
  if (served.length === 0) return "spec.versions: Required value: at least one served version";
  const statusSubresource = served.some((v) => {
    const sub = v.subresources as Record<string, unknown> | undefined;
    return sub !== undefined && sub.status !== undefined;
  });
  const schemas: Record<string, SchemaNode> = {};
  for (const v of served) {
    const schema = (v.schema as { openAPIV3Schema?: SchemaNode } | undefined)?.openAPIV3Schema;
    if (schema) schemas[v.name as string] = schema;
  }
  return {
    group,
    versions: served.map((v) => v.name as string),
    schemas,
    plural,
    singular: typeof names.singular === "string" ? names.singular : kind.toLowerCase(),
    kind,
    namespaced: scope === "Namespaced",
    statusSubresource,
    allowUnconditionalUpdate: false,
    deleteReturns: "object",
    shortNames: Array.isArray(names.shortNames) ? (names.shortNames as string[]) : undefined,
    custom: true,
  };
}
