/**
 * The authorization attributes of a request, read from its method and path the way kube-apiserver's
 * RequestInfoFactory does (k8s.io/apiserver/pkg/endpoints/request), before any routing: so an
 * unknown resource is forbidden, not "not found", to a user who may not see it.
 */
import type { RequestAttributes } from "./rbac.js";

/** Path segments after /namespaces/<ns> that are the namespace's own subresources. */
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

function resourceVerb(method: string, name: string, query: URLSearchParams): string {
  const watch = query.get("watch") === "true" || query.get("watch") === "1";
  switch (method) {
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return name ? "delete" : "deletecollection";
    default:
      return watch ? "watch" : name ? "get" : "list";
  }
}

/** Attributes for METHOD path?query; discovery and other non-resource paths use the lowercased method. */
export function requestAttributes(method: string, path: string, query: URLSearchParams): RequestAttributes {
  const nonResource: RequestAttributes = { resourceRequest: false, verb: method.toLowerCase(), path };
  let parts = path
    .split("/")
    .filter((s) => s !== "")
    .map(decodeURIComponent);
  let apiGroup = "";
  if (parts[0] === "api" && parts.length >= 3) parts = parts.slice(2);
  else if (parts[0] === "apis" && parts.length >= 4) {
    apiGroup = parts[1]!;
    parts = parts.slice(3);
  } else return nonResource;
  let namespace = "";
  if (parts[0] === "namespaces" && parts.length > 1) {
    namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }
  const [resource = "", name = "", subresource = ""] = parts;
  return {
    resourceRequest: true,
    verb: resourceVerb(method, name, query),
    apiGroup,
    resource,
    subresource,
    namespace,
    name,
  };
}
