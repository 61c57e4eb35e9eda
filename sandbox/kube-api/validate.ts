/** Checks on incoming objects that the API server makes before storing them (names, metadata shape). */
import { badRequest, invalid } from "./status.js";
import { apiVersionOf } from "./resources.js";
import type { ApiStatus, KubeObject, ResourceType } from "./types.js";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Error message when name is not valid for the type (namespaces: DNS label; others: DNS subdomain). */
export function nameProblem(type: ResourceType, name: string): string | undefined {
  if (type.plural === "namespaces" && type.group === "") {
    if (name.length > 63 || !DNS_LABEL.test(name))
      return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
    return undefined;
  }
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

function isStringMap(v: unknown): boolean {
  return (
    v === undefined ||
    (typeof v === "object" &&
      v !== null &&
      !Array.isArray(v) &&
      Object.values(v).every((x) => typeof x === "string"))
  );
}

/** Shape checks on a request body: an object with object metadata, matching kind/apiVersion, string label maps. */
export function checkBody(type: ResourceType, version: string, body: unknown): ApiStatus | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return badRequest("the request body must be a JSON object");
  }
  const obj = body as Partial<KubeObject>;
  const expectedVersion = apiVersionOf(type.group, version);
  if (obj.kind !== undefined && obj.kind !== type.kind) {
    return badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${type.kind})`);
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== expectedVersion) {
    return badRequest(
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${expectedVersion})`,
    );
  }
  const meta = obj.metadata;
  const name = typeof meta?.name === "string" ? meta.name : "";
  if (meta !== undefined && (typeof meta !== "object" || meta === null || Array.isArray(meta))) {
    return invalid(type.plural, name, "metadata", meta, "must be an object");
  }
  if (!isStringMap(meta?.labels))
    return invalid(type.plural, name, "metadata.labels", meta?.labels, "must map strings to strings");
  if (!isStringMap(meta?.annotations)) {
    return invalid(
      type.plural,
      name,
      "metadata.annotations",
      meta?.annotations,
      "must map strings to strings",
    );
  }
  return undefined;
}
