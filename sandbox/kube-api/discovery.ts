/** Discovery documents (/api, /apis, /apis/<group>[/<version>], /version) built from the resource table. */
import { apiVersionOf, type ResourceRegistry } from "./resources.js";
import type { ResourceType } from "./types.js";

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/** Create-only review resources answered by the server itself. */
export const REVIEW_RESOURCES = [
  { group: "authentication.k8s.io", version: "v1", plural: "tokenreviews", kind: "TokenReview" },
  {
    group: "authorization.k8s.io",
    version: "v1",
    plural: "selfsubjectaccessreviews",
    kind: "SelfSubjectAccessReview",
  },
  {
    group: "authorization.k8s.io",
    version: "v1",
    plural: "subjectaccessreviews",
    kind: "SubjectAccessReview",
  },
];

export function versionInfo(): Record<string, string> {
  return {
    major: "1",
    minor: "31",
    gitVersion: "v1.31.0-meshcanary-sandbox",
    gitCommit: "",
    gitTreeState: "clean",
    buildDate: "2025-01-01T00:00:00Z",
    goVersion: "n/a",
    compiler: "node",
    platform: `${process.platform}/${process.arch}`,
  };
}

/** Groups and their versions, core group excluded; the first version listed is preferred. */
function groups(registry: ResourceRegistry): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (group: string, version: string) => {
    const versions = out.get(group) ?? [];
    if (!versions.includes(version)) versions.push(version);
    out.set(group, versions);
  };
  for (const t of registry.all()) if (t.group !== "") for (const v of t.versions) add(t.group, v);
  for (const r of REVIEW_RESOURCES) add(r.group, r.version);
  return out;
}

function groupDoc(name: string, versions: string[]) {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

export function coreVersions(serverAddress: string) {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

export function groupList(registry: ResourceRegistry) {
  const list = [...groups(registry)].map(([name, versions]) => groupDoc(name, versions));
  return { kind: "APIGroupList", apiVersion: "v1", groups: list };
}

/** The APIGroup document, or undefined if the group is not served. */
export function group(registry: ResourceRegistry, name: string) {
  const versions = groups(registry).get(name);
  return versions ? { kind: "APIGroup", apiVersion: "v1", ...groupDoc(name, versions) } : undefined;
}

function resourceEntries(t: ResourceType) {
  const main = {
    name: t.plural,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: VERBS,
    ...(t.shortNames ? { shortNames: t.shortNames } : {}),
  };
  if (!t.statusSubresource) return [main];
  const status = {
    name: `${t.plural}/status`,
    singularName: "",
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: ["get", "patch", "update"],
  };
  return [main, status];
}

/** The APIResourceList of group/version, or undefined if that version is not served. */
export function resourceList(registry: ResourceRegistry, groupName: string, version: string) {
  const types = registry.all().filter((t) => t.group === groupName && t.versions.includes(version));
  const reviews = REVIEW_RESOURCES.filter((r) => r.group === groupName && r.version === version).map((r) => ({
    name: r.plural,
    singularName: "",
    namespaced: false,
    kind: r.kind,
    verbs: ["create"],
  }));
  if (types.length === 0 && reviews.length === 0) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: apiVersionOf(groupName, version),
    resources: [...types.flatMap(resourceEntries), ...reviews],
  };
}
