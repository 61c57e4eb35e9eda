/** Builders for the Kubernetes Status objects the server answers failures with. */
import type { ApiStatus, Result } from "./types.js";

/** A failure Status with the given code and reason. */
export function failure(
  code: number,
  reason: string,
  message: string,
  details?: ApiStatus["details"],
): ApiStatus {
  const status: ApiStatus = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  };
  if (details) status.details = details;
  return status;
}

/** A success Status (what DELETE of some built-in types returns). */
export function success(name: string, kind: string, group: string): ApiStatus {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    message: "",
    reason: "",
    code: 200,
    details: { name, group, kind },
  };
}

export function notFound(resource: string, name: string): ApiStatus {
  return failure(404, "NotFound", `${resource} "${name}" not found`, { name, kind: resource });
}

export function alreadyExists(resource: string, name: string): ApiStatus {
  return failure(409, "AlreadyExists", `${resource} "${name}" already exists`, { name, kind: resource });
}

export function conflict(resource: string, name: string, why: string): ApiStatus {
  return failure(409, "Conflict", `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, {
    name,
    kind: resource,
  });
}

/** 422 Invalid naming the field path and the offending value. */
export function invalid(
  resource: string,
  name: string,
  field: string,
  value: unknown,
  why: string,
): ApiStatus {
  const detail = `${field}: Invalid value: ${JSON.stringify(value)}: ${why}`;
  return failure(422, "Invalid", `${resource} "${name}" is invalid: ${detail}`, {
    name,
    kind: resource,
    causes: [{ field, message: `Invalid value: ${JSON.stringify(value)}: ${why}` }],
  });
}

/** 422 Invalid listing several field errors, worded as the API server does for custom resources. */
export function invalidFields(
  kind: string,
  group: string,
  name: string,
  errors: { field: string; message: string }[],
): ApiStatus {
  const details = errors.map((e) => `${e.field}: ${e.message}`);
  const list = details.length === 1 ? details[0] : `[${details.join(", ")}]`;
  return failure(422, "Invalid", `${kind}.${group} "${name}" is invalid: ${list}`, {
    name,
    group,
    kind,
    causes: errors.map((e) => ({ field: e.field, message: e.message })),
  });
}

export function badRequest(message: string): ApiStatus {
  return failure(400, "BadRequest", message);
}

export function gone(message: string): ApiStatus {
  return failure(410, "Expired", message);
}

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function err<T>(error: ApiStatus): Result<T> {
  return { ok: false, error };
}
