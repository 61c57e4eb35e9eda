/**
 * The building blocks every section of the Canary schema is written with (closed objects, string
 * enums, durations, opaque JSON) and the patterns several sections share. Separate so that each
 * section module (routing, strategy, analysis, webhooks, status, llm) spells a field the same way.
 */
import { type TSchema, type TUnsafe, Type } from "@sinclair/typebox";

const DURATION_DOC = 'Go-style duration, e.g. "30s", "1m30s", "2h"';
/** A DNS-1123 label: Kubernetes Service names and meshcanary's metric, webhook and gate names. */
export const NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/** An HTTP header name as the filter sees it (lower case, RFC 9110 token characters). */
export const HEADER_PATTERN = "^[a-z0-9!#$%&'*+.^_`|~-]+$";

/** A closed object: unknown keys are reported by validation (the CRD drops the flag; Kubernetes prunes). */
export function Obj<T extends Record<string, TSchema>>(
  properties: T,
  description: string,
  extra: object = {},
) {
  return Type.Object(properties, { description, additionalProperties: false, ...extra });
}

/** A string restricted to a fixed set; rendered as `enum` in the CRD. */
export function StringEnum<T extends readonly string[]>(values: T, description: string, extra: object = {}) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { description, ...extra },
  ) as unknown as TUnsafe<T[number]>;
}

/** A Go-style duration string; the description says so. */
export function Duration(description: string, extra: object = {}) {
  return Type.String({ description: `${description} (${DURATION_DOC})`, minLength: 1, ...extra });
}

/** Opaque JSON kept as written (x-kubernetes-preserve-unknown-fields). */
export function Opaque(description: string) {
  return Type.Object(
    {},
    { description, additionalProperties: true, "x-kubernetes-preserve-unknown-fields": true },
  );
}
