/**
 * Patch application: RFC 7386 JSON merge patch and RFC 6902 JSON patch. Pure functions on plain
 * JSON values; the input document is never modified.
 */

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** RFC 7386: objects merge recursively, null deletes a key, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** One RFC 6902 operation. */
export interface JsonPatchOp {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  value?: unknown;
  from?: string;
}

/** Why a JSON patch could not be applied: malformed (400) or a failed operation such as `test` (422). */
export class JsonPatchError {
  constructor(
    readonly kind: "malformed" | "failed",
    readonly message: string,
  ) {}
}

/** RFC 6901 pointer → unescaped reference tokens. */
function parsePointer(pointer: string): string[] | undefined {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) return undefined;
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function arrayIndex(token: string, length: number, forInsert: boolean): number | undefined {
  if (forInsert && token === "-") return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const i = Number(token);
  return i < length || (forInsert && i === length) ? i : undefined;
}

function getAt(doc: unknown, tokens: string[]): { found: boolean; value?: unknown } {
  let cur: unknown = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(t, cur.length, false);
      if (i === undefined) return { found: false };
      cur = cur[i];
    } else if (isObject(cur) && Object.hasOwn(cur, t)) {
      cur = cur[t];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: cur };
}

/** Mutates doc (a private copy) at the parent of tokens; returns the new root or an error message. */
function setAt(
  doc: unknown,
  tokens: string[],
  value: unknown,
  mode: "add" | "replace",
): unknown | JsonPatchError {
  if (tokens.length === 0) return value;
  const parent = getAt(doc, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1]!;
  const where = "/" + tokens.join("/");
  if (!parent.found) return new JsonPatchError("failed", `path ${where}: parent does not exist`);
  const container = parent.value;
  if (Array.isArray(container)) {
    const i = arrayIndex(last, container.length, mode === "add");
    if (i === undefined) return new JsonPatchError("failed", `path ${where}: array index out of range`);
    if (mode === "add") container.splice(i, 0, value);
    else container[i] = value;
    return doc;
  }
  if (!isObject(container))
    return new JsonPatchError("failed", `path ${where}: parent is not an object or array`);
  if (mode === "replace" && !Object.hasOwn(container, last)) {
    return new JsonPatchError("failed", `path ${where}: does not exist`);
  }
  container[last] = value;
  return doc;
}

function removeAt(doc: unknown, tokens: string[]): { value: unknown } | JsonPatchError {
  const where = "/" + tokens.join("/");
  if (tokens.length === 0) return new JsonPatchError("failed", "cannot remove the whole document");
  const parent = getAt(doc, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1]!;
  const container = parent.value;
  if (parent.found && Array.isArray(container)) {
    const i = arrayIndex(last, container.length, false);
    if (i === undefined) return new JsonPatchError("failed", `path ${where}: array index out of range`);
    return { value: container.splice(i, 1)[0] };
  }
  if (parent.found && isObject(container) && Object.hasOwn(container, last)) {
    const value = container[last];
    delete container[last];
    return { value };
  }
  return new JsonPatchError("failed", `path ${where}: does not exist`);
}

function isError(v: unknown): v is JsonPatchError {
  return v instanceof JsonPatchError;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
    );
  }
  return false;
}

function applyOp(doc: unknown, op: JsonPatchOp, index: number): unknown | JsonPatchError {
  const path = parsePointer(op.path);
  if (path === undefined)
    return new JsonPatchError("malformed", `[${index}].path: invalid pointer ${JSON.stringify(op.path)}`);
  switch (op.op) {
    case "add":
    case "replace":
      if (!("value" in op)) return new JsonPatchError("malformed", `[${index}].value: required for ${op.op}`);
      return setAt(doc, path, structuredClone(op.value), op.op);
    case "remove": {
      const removed = removeAt(doc, path);
      return isError(removed) ? removed : doc;
    }
    case "test": {
      const cur = getAt(doc, path);
      if (cur.found && jsonEqual(cur.value, op.value)) return doc;
      return new JsonPatchError("failed", `test operation at ${op.path} failed: value differs`);
    }
    case "move":
    case "copy": {
      const from = parsePointer(op.from ?? "\u0000");
      if (from === undefined)
        return new JsonPatchError("malformed", `[${index}].from: invalid pointer ${JSON.stringify(op.from)}`);
      const source = getAt(doc, from);
      if (!source.found) return new JsonPatchError("failed", `${op.op} from ${op.from}: does not exist`);
      let value = structuredClone(source.value);
      if (op.op === "move") {
        const removed = removeAt(doc, from);
        if (isError(removed)) return removed;
        value = removed.value;
      }
      return setAt(doc, path, value, "add");
    }
    default:
      return new JsonPatchError(
        "malformed",
        `[${index}].op: unsupported ${JSON.stringify((op as { op: unknown }).op)}`,
      );
  }
}

/** RFC 6902: applies ops in order on a copy; all-or-nothing. */
export function jsonPatch(
  target: unknown,
  ops: unknown,
): { ok: true; value: unknown } | { ok: false; error: JsonPatchError } {
  if (!Array.isArray(ops))
    return { ok: false, error: new JsonPatchError("malformed", "JSON patch must be an array") };
  let doc = structuredClone(target);
  for (const [i, op] of ops.entries()) {
    if (!isObject(op) || typeof op.op !== "string" || typeof op.path !== "string") {
      return {
        ok: false,
        error: new JsonPatchError("malformed", `[${i}]: an operation needs string op and path`),
      };
    }
    const next = applyOp(doc, op as unknown as JsonPatchOp, i);
    if (isError(next)) return { ok: false, error: next };
    doc = next;
  }
  return { ok: true, value: doc };
}
