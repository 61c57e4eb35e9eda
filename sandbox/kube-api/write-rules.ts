/**
 * The Kubernetes API server's rules for a write, as pure functions over the stored and the sent
 * object: what a PUT may change (and what the /status subresource may), when metadata.generation
 * moves, resourceVersion and UID preconditions (409 Conflict), and a custom resource's schema
 * (prune or refuse unknown fields, then validate). Separate from the store, which only keeps
 * objects and commits changes: these rules decide what a commit holds or why there is none.
 */
import { applyDefaults } from "./defaults.js";
import { resourceName } from "./resources.js";
import { pruneUnknown, schemaErrors } from "./schema.js";
import { badRequest, conflict, invalid, invalidFields } from "./status.js";
import type { ApiStatus, KubeObject, ResourceType } from "./types.js";

/** Preconditions a DELETE may carry (DeleteOptions.preconditions). */
export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

const CONFLICT_WHY =
  "the object has been modified; please apply your changes to the latest version and try again";

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Everything but metadata (and status when it has its own endpoint): what a generation tracks. */
function specPart(type: ResourceType, obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status, apiVersion: _a, kind: _k, ...rest } = obj;
  return type.statusSubresource ? rest : { ...rest, status };
}

/** Same object apart from resourceVersion (a no-op write changes nothing, as in Kubernetes). */
export function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => ({
    ...o,
    apiVersion: undefined,
    metadata: { ...o.metadata, resourceVersion: undefined },
  });
  return jsonEqual(strip(a), strip(b));
}

/** A PUT's resourceVersion precondition: required unless the type allows unconditional updates. */
export function resourceVersionProblem(
  type: ResourceType,
  stored: KubeObject,
  sent: string | undefined,
): ApiStatus | undefined {
  const name = stored.metadata.name!;
  if (sent === undefined || sent === "") {
    if (type.allowUnconditionalUpdate) return undefined;
    return invalid(
      resourceName(type),
      name,
      "metadata.resourceVersion",
      0,
      "must be specified for an update",
    );
  }
  if (sent !== stored.metadata.resourceVersion) return conflict(resourceName(type), name, CONFLICT_WHY);
  return undefined;
}

/** A DELETE's preconditions against the stored object. */
export function deletePreconditionProblem(
  type: ResourceType,
  stored: KubeObject,
  preconditions: DeletePreconditions,
): ApiStatus | undefined {
  const resource = resourceName(type);
  const name = stored.metadata.name!;
  if (preconditions.uid !== undefined && preconditions.uid !== stored.metadata.uid) {
    return conflict(
      resource,
      name,
      `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${stored.metadata.uid}`,
    );
  }
  if (
    preconditions.resourceVersion !== undefined &&
    preconditions.resourceVersion !== stored.metadata.resourceVersion
  ) {
    return conflict(resource, name, CONFLICT_WHY);
  }
  return undefined;
}

/**
 * The object a PUT on the main endpoint leaves: the sent object with the server-owned metadata
 * kept, defaults applied, status kept when it has its own endpoint, generation bumped when the
 * spec part changed.
 */
export function mainUpdate(type: ResourceType, stored: KubeObject, incoming: KubeObject): KubeObject {
  const next = structuredClone(incoming);
  const sent = next.metadata ?? {};
  next.apiVersion = stored.apiVersion;
  next.kind = type.kind;
  next.metadata = {
    ...sent,
    name: stored.metadata.name,
    uid: stored.metadata.uid,
    creationTimestamp: stored.metadata.creationTimestamp,
    resourceVersion: stored.metadata.resourceVersion,
    generation: stored.metadata.generation,
  };
  if (stored.metadata.namespace !== undefined) next.metadata.namespace = stored.metadata.namespace;
  else delete next.metadata.namespace;
  if (stored.metadata.deletionTimestamp) next.metadata.deletionTimestamp = stored.metadata.deletionTimestamp;
  else delete next.metadata.deletionTimestamp;
  applyDefaults(type, next);
  if (type.statusSubresource) {
    // The main endpoint ignores .status when the type has a /status subresource.
    if (stored.status === undefined) delete next.status;
    else next.status = structuredClone(stored.status);
  }
  if (!jsonEqual(specPart(type, next), specPart(type, stored))) {
    next.metadata.generation = (stored.metadata.generation ?? 0) + 1;
  }
  return next;
}

/** The object a PUT on /status leaves: the stored object with only its status replaced. */
export function statusUpdate(stored: KubeObject, incoming: KubeObject): KubeObject {
  const next = structuredClone(stored);
  if (incoming.status === undefined) delete next.status;
  else next.status = structuredClone(incoming.status);
  return next;
}

/** Prunes (or, strict, refuses) undeclared fields and checks a custom resource against its schema. */
export function schemaProblem(
  type: ResourceType,
  version: string,
  obj: KubeObject,
  strict: boolean,
): ApiStatus | undefined {
  const schema = type.schemas?.[version];
  if (!schema) return undefined;
  const unknown = pruneUnknown(obj, schema);
  if (strict && unknown.length > 0) {
    const fields = unknown.map((f) => `unknown field "${f}"`).join(", ");
    const kind = type.kind;
    return badRequest(
      `${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${fields}`,
    );
  }
  const errors = schemaErrors(obj, schema);
  if (errors.length === 0) return undefined;
  return invalidFields(type.kind, type.group, obj.metadata.name ?? "", errors);
}
