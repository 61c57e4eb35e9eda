/**
 * Request handling for collections and objects: list, get, create, replace, patch, delete, and the
 * review resources. Each handler returns the HTTP status and JSON body to send; watches are
 * handled by watch.ts.
 */
import { jsonPatch, mergePatch } from "./patch.js";
import { apiVersionOf } from "./resources.js";
import { parseFieldSelector, parseLabelSelector, type Selector } from "./selectors.js";
import { badRequest, failure, success } from "./status.js";
import type { ObjectStore, Target } from "./store.js";
import type { DeletePreconditions } from "./write-rules.js";
import type { RequestAttributes, UserInfo } from "./rbac.js";
import type { ApiStatus, KubeObject, Result } from "./types.js";

/** What to send back. */
export interface Reply {
  status: number;
  body: unknown;
}

/** The parts of a request a handler reads. */
export interface Request {
  method: string;
  query: URLSearchParams;
  /** Content-Type without parameters, lowercased. */
  contentType: string;
  body: string;
}

/** Patch types the server accepts; strategic merge is applied as a JSON merge patch (no patchMergeKey lists). */
export const PATCH_TYPES = [
  "application/merge-patch+json",
  "application/json-patch+json",
  "application/strategic-merge-patch+json",
];

function fail(status: ApiStatus): Reply {
  return { status: status.code, body: status };
}

function reply<T>(result: Result<T>, code: number, render: (v: T) => unknown): Reply {
  return result.ok ? { status: code, body: render(result.value) } : fail(result.error);
}

/** The stored object as the version the client asked for (objects are shared across served versions). */
export function presenter(t: Target): (obj: KubeObject) => KubeObject {
  const apiVersion = apiVersionOf(t.type.group, t.version);
  return (obj) => ({ ...obj, apiVersion });
}

/** Label and field selectors of the query combined, or a 400 Status. */
export function selectorOf(query: URLSearchParams): Selector | ApiStatus {
  const labels = parseLabelSelector(query.get("labelSelector"));
  if (typeof labels === "string") return badRequest(labels);
  const fields = parseFieldSelector(query.get("fieldSelector"));
  if (typeof fields === "string") return badRequest(fields);
  return (o) => labels(o) && fields(o);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: ApiStatus } {
  try {
    return { ok: true, value: JSON.parse(text === "" ? "null" : text) };
  } catch (e) {
    return { ok: false, error: badRequest(`the request body is not valid JSON: ${(e as Error).message}`) };
  }
}

function list(store: ObjectStore, t: Target, req: Request): Reply {
  const selector = selectorOf(req.query);
  if (typeof selector !== "function") return fail(selector);
  const present = presenter(t);
  const all = store.list(t, selector).map(present);
  const limit = Number(req.query.get("limit") ?? "0");
  const start = decodeContinue(req.query.get("continue"));
  if (start === undefined) return fail(failure(400, "BadRequest", "continue: invalid continue token"));
  const end = limit > 0 ? start + limit : all.length;
  const metadata: Record<string, unknown> = { resourceVersion: String(store.resourceVersion()) };
  if (end < all.length) {
    metadata.continue = Buffer.from(JSON.stringify({ start: end })).toString("base64url");
    metadata.remainingItemCount = all.length - end;
  }
  return {
    status: 200,
    body: {
      kind: `${t.type.kind}List`,
      apiVersion: apiVersionOf(t.type.group, t.version),
      metadata,
      items: all.slice(start, end),
    },
  };
}

function decodeContinue(token: string | null): number | undefined {
  if (!token) return 0;
  try {
    const start = (JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { start?: unknown }).start;
    return typeof start === "number" && Number.isInteger(start) && start >= 0 ? start : undefined;
  } catch {
    return undefined;
  }
}

function deleteOptions(body: string): DeletePreconditions | ApiStatus {
  if (body.trim() === "") return {};
  const parsed = parseJson(body);
  if (!parsed.ok) return parsed.error;
  const pre = (parsed.value as { preconditions?: DeletePreconditions } | null)?.preconditions ?? {};
  return { uid: pre.uid ?? undefined, resourceVersion: pre.resourceVersion ?? undefined };
}

/** fieldValidation=Strict: undeclared fields are an error rather than silently pruned. */
function strictFields(req: Request): boolean {
  return req.query.get("fieldValidation") === "Strict";
}

/** Applies the patch body to the stored object; then the result is written like a PUT. */
function patch(store: ObjectStore, t: Target, name: string, req: Request, mode: "main" | "status"): Reply {
  if (req.contentType === "application/apply-patch+yaml") {
    return fail(
      failure(
        415,
        "UnsupportedMediaType",
        "server-side apply (application/apply-patch+yaml) is not supported by the sandbox; use a merge or JSON patch",
      ),
    );
  }
  if (!PATCH_TYPES.includes(req.contentType)) {
    return fail(
      failure(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format (${req.contentType}); accepted: ${PATCH_TYPES.join(", ")}`,
      ),
    );
  }
  const current = store.get(t, name);
  if (!current.ok) return fail(current.error);
  const body = parseJson(req.body);
  if (!body.ok) return fail(body.error);
  const present = presenter(t);
  const original = present(current.value);
  let patched: unknown;
  if (req.contentType === "application/json-patch+json") {
    const applied = jsonPatch(original, body.value);
    if (!applied.ok) {
      const code = applied.error.kind === "malformed" ? 400 : 422;
      return fail(
        failure(code, code === 400 ? "BadRequest" : "Invalid", `json patch: ${applied.error.message}`),
      );
    }
    patched = applied.value;
  } else {
    patched = mergePatch(original, body.value);
  }
  const obj = patched as KubeObject;
  // A patch is unconditional unless it sets metadata.resourceVersion itself.
  if (typeof obj === "object" && obj !== null && obj.metadata && !obj.metadata.resourceVersion) {
    obj.metadata.resourceVersion = current.value.metadata.resourceVersion;
  }
  return reply(store.replace(t, name, obj, mode, strictFields(req)), 200, present);
}

/** Handles a non-watch request on a collection. */
export function handleCollection(store: ObjectStore, t: Target, req: Request): Reply {
  switch (req.method) {
    case "GET":
      return list(store, t, req);
    case "POST": {
      if (t.type.namespaced && t.namespace === undefined) {
        return fail(
          failure(405, "MethodNotAllowed", `create ${t.type.plural} needs a namespace in the path`),
        );
      }
      const body = parseJson(req.body);
      if (!body.ok) return fail(body.error);
      return reply(store.create(t, body.value, strictFields(req)), 201, presenter(t));
    }
    case "DELETE": {
      const selector = selectorOf(req.query);
      if (typeof selector !== "function") return fail(selector);
      const deleted: KubeObject[] = [];
      for (const obj of store.list(t, selector)) {
        const r = store.delete({ ...t, namespace: obj.metadata.namespace }, obj.metadata.name!);
        if (r.ok) deleted.push(presenter(t)(r.value.object));
      }
      const apiVersion = apiVersionOf(t.type.group, t.version);
      const metadata = { resourceVersion: String(store.resourceVersion()) };
      return { status: 200, body: { kind: `${t.type.kind}List`, apiVersion, metadata, items: deleted } };
    }
    default:
      return fail(failure(405, "MethodNotAllowed", `${req.method} is not supported on a collection`));
  }
}

/** Handles a request on one object or its /status subresource. */
export function handleObject(
  store: ObjectStore,
  t: Target,
  name: string,
  req: Request,
  status: boolean,
): Reply {
  const mode = status ? "status" : "main";
  const present = presenter(t);
  switch (req.method) {
    case "GET":
      return reply(store.get(t, name), 200, present);
    case "PUT": {
      const body = parseJson(req.body);
      if (!body.ok) return fail(body.error);
      return reply(store.replace(t, name, body.value, mode, strictFields(req)), 200, present);
    }
    case "PATCH":
      return patch(store, t, name, req, mode);
    case "DELETE": {
      if (status)
        return fail(failure(405, "MethodNotAllowed", "DELETE is not supported on the status subresource"));
      const pre = deleteOptions(req.body);
      if ("kind" in pre) return fail(pre);
      const deleted = store.delete(t, name, pre);
      if (!deleted.ok) return fail(deleted.error);
      const { object, finalized } = deleted.value;
      if (finalized && t.type.deleteReturns === "status") {
        return { status: 200, body: success(name, t.type.plural, t.type.group) };
      }
      return { status: finalized ? 200 : 202, body: present(object) };
    }
    default:
      return fail(
        failure(405, "MethodNotAllowed", `${req.method} is not supported on ${t.type.plural}/${name}`),
      );
  }
}

/** What the review resources ask of the server's access control. */
export interface AccessModel {
  /** Who sent this request. */
  requester: UserInfo;
  /** The user a bearer token authenticates as, or undefined. */
  authenticateToken(token: string): UserInfo | undefined;
  /** Whether the user may do what the attributes describe. */
  allowed(user: UserInfo, a: RequestAttributes): boolean;
}

interface ReviewSpec {
  token?: string;
  user?: string;
  groups?: string[];
  resourceAttributes?: Record<string, string | undefined>;
  nonResourceAttributes?: { path?: string; verb?: string };
}

function reviewAttributes(spec: ReviewSpec): RequestAttributes {
  const n = spec.nonResourceAttributes;
  if (n) return { resourceRequest: false, verb: n.verb ?? "", path: n.path ?? "" };
  const r = spec.resourceAttributes ?? {};
  return {
    resourceRequest: true,
    verb: r.verb ?? "",
    apiGroup: r.group ?? "",
    resource: r.resource ?? "",
    subresource: r.subresource ?? "",
    namespace: r.namespace ?? "",
    name: r.name ?? "",
  };
}

/** TokenReview, SelfSubjectAccessReview and SubjectAccessReview, answered by the server's access control. */
export function handleReview(
  plural: string,
  group: string,
  version: string,
  req: Request,
  access: AccessModel,
): Reply {
  if (req.method !== "POST") return fail(failure(405, "MethodNotAllowed", `${plural} only supports create`));
  const body = parseJson(req.body);
  if (!body.ok) return fail(body.error);
  const review = (body.value ?? {}) as { kind?: string; spec?: ReviewSpec };
  const spec = review.spec ?? {};
  const base = { ...review, apiVersion: `${group}/${version}`, metadata: { creationTimestamp: null } };
  if (plural === "tokenreviews") {
    const user = spec.token ? access.authenticateToken(spec.token) : undefined;
    const status = user
      ? { authenticated: true, user: { username: user.name, groups: user.groups } }
      : { authenticated: false, user: {} };
    return { status: 201, body: { ...base, kind: "TokenReview", status } };
  }
  const subject =
    plural === "subjectaccessreviews"
      ? { name: spec.user ?? "", groups: spec.groups ?? [] }
      : access.requester;
  const allowed = access.allowed(subject, reviewAttributes(spec));
  return { status: 201, body: { ...base, status: { allowed } } };
}
