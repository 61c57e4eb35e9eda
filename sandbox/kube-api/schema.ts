/**
 * What the real API server does with a custom resource and its CRD's structural OpenAPI schema:
 * unknown fields are pruned (or, with fieldValidation=Strict, refused), then the value is checked
 * against types, enums, bounds, lengths, patterns and required fields, each error naming its field
 * path in Kubernetes' notation (spec.steps[0].weight) and wording.
 */

/** The part of an OpenAPI v3 schema node a structural CRD schema may use. */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
}

/** One validation error: the field path and the message after it. */
export interface FieldError {
  field: string;
  message: string;
}

/** Fields the server manages itself; the schema never applies to them. */
const ENVELOPE = new Set(["apiVersion", "kind", "metadata"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Removes fields the schema does not declare (in place) and returns their paths, as the server's
 * decoder does; the envelope (apiVersion, kind, metadata) is left alone.
 */
export function pruneUnknown(root: Record<string, unknown>, schema: SchemaNode): string[] {
  const removed: string[] = [];
  for (const [key, value] of Object.entries(root)) {
    if (ENVELOPE.has(key)) continue;
    const child = schema.properties?.[key];
    if (child) prune(value, child, key, removed);
    else if (!schema["x-kubernetes-preserve-unknown-fields"]) {
      delete root[key];
      removed.push(key);
    }
  }
  return removed;
}

function prune(value: unknown, schema: SchemaNode, path: string, removed: string[]): void {
  if (schema["x-kubernetes-preserve-unknown-fields"] && !schema.properties) return;
  if (Array.isArray(value)) {
    const items = schema.items;
    if (items) for (const [i, item] of value.entries()) prune(item, items, `${path}[${i}]`, removed);
    return;
  }
  if (!isObject(value)) return;
  const extra = schema.additionalProperties;
  for (const [key, child] of Object.entries(value)) {
    const declared = schema.properties?.[key] ?? (typeof extra === "object" ? extra : undefined);
    if (declared) prune(child, declared, `${path}.${key}`, removed);
    else if (!schema["x-kubernetes-preserve-unknown-fields"] && extra !== true) {
      delete value[key];
      removed.push(`${path}.${key}`);
    }
  }
}

/** Errors of the object's non-envelope fields against the schema (empty when valid). */
export function schemaErrors(root: Record<string, unknown>, schema: SchemaNode): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(root)) {
    const child = schema.properties?.[key];
    if (!ENVELOPE.has(key) && child) check(value, child, key, errors);
  }
  // As the real server does, missing required fields come after the errors in present ones.
  for (const name of schema.required ?? []) {
    if (!ENVELOPE.has(name) && root[name] === undefined)
      errors.push({ field: name, message: "Required value" });
  }
  return errors;
}

const TYPE_OF: Record<string, (v: unknown) => boolean> = {
  object: isObject,
  array: Array.isArray,
  string: (v) => typeof v === "string",
  integer: Number.isInteger,
  number: (v) => typeof v === "number",
  boolean: (v) => typeof v === "boolean",
};

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function check(value: unknown, schema: SchemaNode, path: string, errors: FieldError[]): void {
  if (value === null) {
    if (!schema.nullable) errors.push(typeError(path, schema.type ?? "object", "null"));
    return;
  }
  if (schema["x-kubernetes-int-or-string"]) {
    if (!Number.isInteger(value) && typeof value !== "string") {
      errors.push(typeError(path, "integer,string", jsonType(value)));
    }
    return;
  }
  if (schema.type && !TYPE_OF[schema.type]?.(value)) {
    errors.push(typeError(path, schema.type, jsonType(value)));
    return;
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    const supported = schema.enum.map((e) => JSON.stringify(e)).join(", ");
    errors.push({
      field: path,
      message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported}`,
    });
  }
  if (typeof value === "number") checkNumber(value, schema, path, errors);
  if (typeof value === "string") checkString(value, schema, path, errors);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      errors.push(bound(path, value.length, `should have at least ${schema.minItems} items`));
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      errors.push({
        field: path,
        message: `Too many: ${value.length}: must have at most ${schema.maxItems} items`,
      });
    }
    const items = schema.items;
    if (items) for (const [i, item] of value.entries()) check(item, items, `${path}[${i}]`, errors);
  }
  if (isObject(value)) {
    const extra = typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined;
    for (const [key, child] of Object.entries(value)) {
      const declared = schema.properties?.[key] ?? extra;
      if (declared) check(child, declared, `${path}.${key}`, errors);
    }
    for (const name of schema.required ?? []) {
      if (value[name] === undefined) errors.push({ field: `${path}.${name}`, message: "Required value" });
    }
  }
}

function typeError(path: string, want: string, got: string): FieldError {
  return {
    field: path,
    message: `Invalid value: "${got}": ${path} in body must be of type ${want}: "${got}"`,
  };
}

function bound(path: string, value: unknown, should: string): FieldError {
  return { field: path, message: `Invalid value: ${JSON.stringify(value)}: ${path} in body ${should}` };
}

function checkNumber(value: number, s: SchemaNode, path: string, errors: FieldError[]): void {
  if (s.minimum !== undefined && (s.exclusiveMinimum ? value <= s.minimum : value < s.minimum)) {
    errors.push(
      bound(path, value, `should be greater than ${s.exclusiveMinimum ? "" : "or equal to "}${s.minimum}`),
    );
  }
  if (s.maximum !== undefined && (s.exclusiveMaximum ? value >= s.maximum : value > s.maximum)) {
    errors.push(
      bound(path, value, `should be less than ${s.exclusiveMaximum ? "" : "or equal to "}${s.maximum}`),
    );
  }
}

function checkString(value: string, s: SchemaNode, path: string, errors: FieldError[]): void {
  const length = [...value].length;
  if (s.minLength !== undefined && length < s.minLength) {
    errors.push(bound(path, value, `should be at least ${s.minLength} chars long`));
  }
  if (s.maxLength !== undefined && length > s.maxLength) {
    errors.push({ field: path, message: `Too long: may not be more than ${s.maxLength} bytes` });
  }
  if (s.pattern !== undefined && !new RegExp(s.pattern, "u").test(value)) {
    errors.push(bound(path, value, `should match '${s.pattern}'`));
  }
}
