/** Maps a request path to what it addresses: a discovery document, a collection, an object or its status. */
import { REVIEW_RESOURCES } from "./discovery.js";
import type { ResourceRegistry } from "./resources.js";
import type { Target } from "./store.js";

/** What a URL path addresses. */
export type Route =
  | { kind: "health" }
  | { kind: "version" }
  | { kind: "openapi" }
  | { kind: "coreVersions" }
  | { kind: "groupList" }
  | { kind: "group"; group: string }
  | { kind: "resourceList"; group: string; version: string }
  | { kind: "review"; group: string; version: string; plural: string }
  | { kind: "collection"; target: Target }
  | { kind: "object"; target: Target; name: string; subresource?: "status" }
  | { kind: "token"; namespace: string; name: string }
  | { kind: "unknown"; message: string };

const HEALTH = new Set(["/healthz", "/livez", "/readyz"]);

/** Paths after /api/v1 or /apis/<g>/<v> → collection, object or status route. */
function resourceRoute(registry: ResourceRegistry, group: string, version: string, segs: string[]): Route {
  const unknown = (what: string): Route => ({
    kind: "unknown",
    message: `the server could not find the requested resource (${what})`,
  });
  if (segs.length === 0) return { kind: "resourceList", group, version };
  if (
    REVIEW_RESOURCES.some((r) => r.group === group && r.version === version && r.plural === segs[0]) &&
    segs.length === 1
  ) {
    return { kind: "review", group, version, plural: segs[0]! };
  }
  // namespaces/<ns>/<plural>[/<name>[/status]] when <plural> is a namespaced resource of this group/version.
  if (segs[0] === "namespaces" && segs.length >= 3) {
    const type = registry.find(group, version, segs[2]!);
    if (type?.namespaced) {
      const target: Target = { type, version, namespace: segs[1]! };
      return objectOrCollection(target, segs.slice(3), unknown);
    }
  }
  const type = registry.find(group, version, segs[0]!);
  if (!type) return unknown(`get ${segs[0]}`);
  return objectOrCollection({ type, version, namespace: undefined }, segs.slice(1), unknown);
}

function isServiceAccounts(t: Target): boolean {
  return t.type.group === "" && t.type.plural === "serviceaccounts";
}

function objectOrCollection(target: Target, rest: string[], unknown: (what: string) => Route): Route {
  if (rest.length === 0) return { kind: "collection", target };
  if (rest.length === 1) {
    if (!target.type.namespaced || target.namespace !== undefined)
      return { kind: "object", target, name: rest[0]! };
    return unknown(`${target.type.plural} is namespaced`);
  }
  if (rest.length === 2 && rest[1] === "token" && isServiceAccounts(target) && target.namespace) {
    return { kind: "token", namespace: target.namespace, name: rest[0]! };
  }
  if (rest.length === 2 && rest[1] === "status" && target.type.statusSubresource) {
    if (target.type.namespaced && target.namespace === undefined)
      return unknown(`${target.type.plural} is namespaced`);
    return { kind: "object", target, name: rest[0]!, subresource: "status" };
  }
  return unknown(`${target.type.plural}/${rest.join("/")}`);
}

/** Route for a URL path (already split from its query string). */
export function route(registry: ResourceRegistry, path: string): Route {
  if (HEALTH.has(path)) return { kind: "health" };
  if (path === "/version") return { kind: "version" };
  if (path.startsWith("/openapi/")) return { kind: "openapi" };
  const segs = path
    .split("/")
    .filter((s) => s !== "")
    .map(decodeURIComponent);
  if (segs[0] === "api") {
    if (segs.length === 1) return { kind: "coreVersions" };
    if (segs[1] !== "v1")
      return {
        kind: "unknown",
        message: `the server could not find the requested resource (api version ${segs[1]})`,
      };
    return resourceRoute(registry, "", "v1", segs.slice(2));
  }
  if (segs[0] === "apis") {
    if (segs.length === 1) return { kind: "groupList" };
    if (segs.length === 2) return { kind: "group", group: segs[1]! };
    return resourceRoute(registry, segs[1]!, segs[2]!, segs.slice(3));
  }
  return { kind: "unknown", message: `the server could not find the requested resource (${path})` };
}
