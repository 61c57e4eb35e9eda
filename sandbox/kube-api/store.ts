/**
 * The object store behind the API: objects by (resource, namespace, name), a global monotonic
 * resourceVersion, a bounded history of changes for watch resume, and the write semantics of the
 * Kubernetes API server (optimistic concurrency, generation, status subresource, finalizers).
 * Synchronous and in memory; every operation returns a Result instead of throwing.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { applyDefaults } from "./defaults.js";
import { apiVersionOf, ResourceRegistry, resourceFromCrd, resourceKey } from "./resources.js";
import type { Selector } from "./selectors.js";
import { pruneUnknown, schemaErrors } from "./schema.js";
import {
  alreadyExists,
  badRequest,
  conflict,
  err,
  gone,
  invalid,
  invalidFields,
  notFound,
  ok,
} from "./status.js";
import type { ApiStatus, ChangeEvent, KubeObject, Result, ResourceType } from "./types.js";
import { checkBody, nameProblem } from "./validate.js";

/** Store tuning. */
export interface StoreOptions {
  /** How many changes are kept for watch resume; older resourceVersions get 410 Gone. Default 1000. */
  historyLimit?: number;
  /** Called after every committed change (persistence hooks in here). */
  onChange?: () => void;
}

/** Serializable content of a store (what persistence writes). */
export interface StoreSnapshot {
  resourceVersion: number;
  objects: { resource: string; object: KubeObject }[];
}

/** Where an operation applies: the type, the version the client spoke, and the namespace (if namespaced). */
export interface Target {
  type: ResourceType;
  version: string;
  namespace?: string;
}

/** Preconditions a DELETE may carry (DeleteOptions.preconditions). */
export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

/** Deletion outcome: the object is gone, or only marked (finalizers pending). */
export interface Deleted {
  object: KubeObject;
  finalized: boolean;
}

const CONFLICT_WHY =
  "the object has been modified; please apply your changes to the latest version and try again";
export const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function itemKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Everything but metadata (and status when it has its own endpoint): what a generation tracks. */
function specPart(type: ResourceType, obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status, apiVersion: _a, kind: _k, ...rest } = obj;
  return type.statusSubresource ? rest : { ...rest, status };
}

/** Same object apart from resourceVersion (a no-op write changes nothing, as in Kubernetes). */
function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => ({
    ...o,
    apiVersion: undefined,
    metadata: { ...o.metadata, resourceVersion: undefined },
  });
  return jsonEqual(strip(a), strip(b));
}

export class ObjectStore {
  readonly registry = new ResourceRegistry();
  private rv = 0;
  /** Watches may resume from any resourceVersion >= floor. */
  private floor = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: ChangeEvent[] = [];
  private readonly listeners = new Set<(ev: ChangeEvent) => void>();
  private readonly expiryListeners = new Set<() => void>();
  private readonly historyLimit: number;
  private readonly onChange: () => void;

  constructor(opts: StoreOptions = {}, snapshot?: StoreSnapshot) {
    this.historyLimit = opts.historyLimit ?? 1000;
    this.onChange = () => {};
    if (snapshot) this.restore(snapshot);
    else for (const ns of DEFAULT_NAMESPACES) this.seedNamespace(ns);
    this.onChange = opts.onChange ?? (() => {});
  }

  /** Current (latest) resourceVersion. */
  resourceVersion(): number {
    return this.rv;
  }

  snapshot(): StoreSnapshot {
    const objects: StoreSnapshot["objects"] = [];
    for (const [resource, items] of this.objects) {
      for (const object of items.values()) objects.push({ resource, object });
    }
    return { resourceVersion: this.rv, objects };
  }

  get(t: Target, name: string): Result<KubeObject> {
    const obj = this.items(t.type).get(itemKey(t.namespace, name));
    return obj ? ok(obj) : err(notFound(this.resourceName(t.type), name));
  }

  /** Objects of the type in the namespace (all namespaces when t.namespace is undefined), sorted by namespace/name. */
  list(t: Target, selector: Selector): KubeObject[] {
    const out: KubeObject[] = [];
    for (const obj of this.items(t.type).values()) {
      if (t.namespace !== undefined && obj.metadata.namespace !== t.namespace) continue;
      if (selector(obj)) out.push(obj);
    }
    return out.sort((a, b) =>
      itemKey(a.metadata.namespace, a.metadata.name!).localeCompare(
        itemKey(b.metadata.namespace, b.metadata.name!),
      ),
    );
  }

  /** POST; `strict` refuses fields a custom resource's schema does not declare instead of pruning them. */
  create(t: Target, body: unknown, strict = false): Result<KubeObject> {
    const problem = checkBody(t.type, t.version, body);
    if (problem) return err(problem);
    const obj = structuredClone(body) as KubeObject;
    obj.metadata ??= {};
    const meta = obj.metadata;
    const resource = this.resourceName(t.type);
    if (!meta.name && meta.generateName)
      meta.name = meta.generateName + randomBytes(3).toString("hex").slice(0, 5);
    const name = meta.name ?? "";
    if (name === "")
      return err(invalid(resource, name, "metadata.name", name, "name or generateName is required"));
    const bad = nameProblem(t.type, name);
    if (bad) return err(invalid(resource, name, "metadata.name", name, bad));
    const nsProblem = this.checkNamespace(t, meta.namespace);
    if (nsProblem) return err(nsProblem);
    if (this.items(t.type).has(itemKey(t.namespace, name))) return err(alreadyExists(resource, name));
    obj.apiVersion = apiVersionOf(t.type.group, t.version);
    obj.kind = t.type.kind;
    if (t.namespace !== undefined) meta.namespace = t.namespace;
    else delete meta.namespace;
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    meta.generation = 1;
    delete meta.deletionTimestamp;
    if (t.type.statusSubresource) delete obj.status;
    applyDefaults(t.type, obj);
    const schemaProblem = this.conform(t, obj, strict);
    if (schemaProblem) return err(schemaProblem);
    const crdProblem = this.registerIfCrd(t.type, obj);
    if (crdProblem) return err(crdProblem);
    return ok(this.commit("ADDED", t.type, obj));
  }

  /** PUT on the object (mode "main") or on its /status subresource (mode "status"). */
  replace(
    t: Target,
    name: string,
    body: unknown,
    mode: "main" | "status",
    strict = false,
  ): Result<KubeObject> {
    const problem = checkBody(t.type, t.version, body);
    if (problem) return err(problem);
    const current = this.get(t, name);
    if (!current.ok) return current;
    const stored = current.value;
    const incoming = body as KubeObject;
    const bodyName = incoming.metadata?.name;
    if (bodyName !== undefined && bodyName !== name) {
      return err(
        badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`),
      );
    }
    const precondition = this.checkResourceVersion(t.type, stored, incoming.metadata?.resourceVersion);
    if (precondition) return err(precondition);
    const next =
      mode === "status" ? this.statusUpdate(stored, incoming) : this.mainUpdate(t, stored, incoming);
    const schemaProblem = this.conform(t, next, strict);
    if (schemaProblem) return err(schemaProblem);
    if (sameContent(next, stored)) return ok(stored);
    if (t.type.plural === "customresourcedefinitions" && t.type.group === "apiextensions.k8s.io") {
      const crdProblem = this.registerIfCrd(t.type, next);
      if (crdProblem) return err(crdProblem);
    }
    if (stored.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      return ok(this.removeNow(t.type, next));
    }
    return ok(this.commit("MODIFIED", t.type, next));
  }

  /** DELETE: removes the object, or marks it for deletion while finalizers remain. */
  delete(t: Target, name: string, preconditions: DeletePreconditions = {}): Result<Deleted> {
    const current = this.get(t, name);
    if (!current.ok) return current;
    const stored = current.value;
    const resource = this.resourceName(t.type);
    if (preconditions.uid !== undefined && preconditions.uid !== stored.metadata.uid) {
      return err(
        conflict(
          resource,
          name,
          `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${stored.metadata.uid}`,
        ),
      );
    }
    if (
      preconditions.resourceVersion !== undefined &&
      preconditions.resourceVersion !== stored.metadata.resourceVersion
    ) {
      return err(conflict(resource, name, CONFLICT_WHY));
    }
    if ((stored.metadata.finalizers ?? []).length > 0) {
      if (stored.metadata.deletionTimestamp) return ok({ object: stored, finalized: false });
      const marked = structuredClone(stored);
      marked.metadata.deletionTimestamp = timestamp();
      marked.metadata.deletionGracePeriodSeconds = 0;
      return ok({ object: this.commit("MODIFIED", t.type, marked), finalized: false });
    }
    return ok({ object: this.removeNow(t.type, stored), finalized: true });
  }

  /** Changes since resourceVersion `from` (exclusive), or 410 Gone when history no longer reaches back that far. */
  changesSince(from: number): Result<ChangeEvent[]> {
    if (from < this.floor) {
      return err(gone(`too old resource version: ${from} (${this.floor})`));
    }
    return ok(this.history.filter((ev) => ev.resourceVersion > from));
  }

  /** Registers a listener for every committed change; returns the unsubscribe function. */
  subscribe(listener: (ev: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Registers a listener for forced watch expiry; returns the unsubscribe function. */
  onExpire(listener: () => void): () => void {
    this.expiryListeners.add(listener);
    return () => this.expiryListeners.delete(listener);
  }

  /** Forgets the change history: open watches end with 410 Gone and older resourceVersions can no longer resume. */
  expireHistory(): void {
    this.history.length = 0;
    this.floor = this.rv;
    for (const l of [...this.expiryListeners]) l();
  }

  private items(type: ResourceType): Map<string, KubeObject> {
    const key = resourceKey(type.group, type.plural);
    let m = this.objects.get(key);
    if (!m) {
      m = new Map();
      this.objects.set(key, m);
    }
    return m;
  }

  private resourceName(type: ResourceType): string {
    return type.group === "" ? type.plural : `${type.plural}.${type.group}`;
  }

  /** Prunes (or, strict, refuses) undeclared fields and checks a custom resource against its schema. */
  private conform(t: Target, obj: KubeObject, strict: boolean): ApiStatus | undefined {
    const schema = t.type.schemas?.[t.version];
    if (!schema) return undefined;
    const unknown = pruneUnknown(obj, schema);
    if (strict && unknown.length > 0) {
      const fields = unknown.map((f) => `unknown field "${f}"`).join(", ");
      const kind = t.type.kind;
      return badRequest(
        `${kind} in version "${t.version}" cannot be handled as a ${kind}: strict decoding error: ${fields}`,
      );
    }
    const errors = schemaErrors(obj, schema);
    if (errors.length === 0) return undefined;
    return invalidFields(t.type.kind, t.type.group, obj.metadata.name ?? "", errors);
  }

  private checkNamespace(t: Target, bodyNamespace: string | undefined) {
    if (!t.type.namespaced) return undefined;
    if (bodyNamespace !== undefined && bodyNamespace !== "" && bodyNamespace !== t.namespace) {
      return badRequest(
        `the namespace of the provided object (${bodyNamespace}) does not match the namespace sent on the request (${t.namespace})`,
      );
    }
    const nsType = this.registry.find("", "v1", "namespaces")!;
    if (!this.items(nsType).has(itemKey(undefined, t.namespace!))) {
      return notFound("namespaces", t.namespace!);
    }
    return undefined;
  }

  private checkResourceVersion(type: ResourceType, stored: KubeObject, sent: string | undefined) {
    const name = stored.metadata.name!;
    if (sent === undefined || sent === "") {
      if (type.allowUnconditionalUpdate) return undefined;
      return invalid(
        this.resourceName(type),
        name,
        "metadata.resourceVersion",
        0,
        "must be specified for an update",
      );
    }
    if (sent !== stored.metadata.resourceVersion)
      return conflict(this.resourceName(type), name, CONFLICT_WHY);
    return undefined;
  }

  private mainUpdate(t: Target, stored: KubeObject, incoming: KubeObject): KubeObject {
    const next = structuredClone(incoming);
    const sent = next.metadata ?? {};
    next.apiVersion = stored.apiVersion;
    next.kind = t.type.kind;
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
    if (stored.metadata.deletionTimestamp)
      next.metadata.deletionTimestamp = stored.metadata.deletionTimestamp;
    else delete next.metadata.deletionTimestamp;
    applyDefaults(t.type, next);
    if (t.type.statusSubresource) {
      // The main endpoint ignores .status when the type has a /status subresource.
      if (stored.status === undefined) delete next.status;
      else next.status = structuredClone(stored.status);
    }
    if (!jsonEqual(specPart(t.type, next), specPart(t.type, stored))) {
      next.metadata.generation = (stored.metadata.generation ?? 0) + 1;
    }
    return next;
  }

  private statusUpdate(stored: KubeObject, incoming: KubeObject): KubeObject {
    const next = structuredClone(stored);
    if (incoming.status === undefined) delete next.status;
    else next.status = structuredClone(incoming.status);
    return next;
  }

  /** Removes the object (and what depends on it: a namespace's objects, a CRD's resources). */
  private removeNow(type: ResourceType, obj: KubeObject): KubeObject {
    if (type.group === "" && type.plural === "namespaces") this.removeNamespaceContents(obj.metadata.name!);
    if (type.group === "apiextensions.k8s.io" && type.plural === "customresourcedefinitions") {
      const served = resourceFromCrd(obj);
      if (typeof served !== "string") {
        for (const item of [...this.items(served).values()]) this.removeNow(served, item);
        this.objects.delete(resourceKey(served.group, served.plural));
        this.registry.remove(served.group, served.plural);
      }
    }
    this.items(type).delete(itemKey(obj.metadata.namespace, obj.metadata.name!));
    return this.commit("DELETED", type, structuredClone(obj), false);
  }

  private removeNamespaceContents(namespace: string): void {
    for (const type of this.registry.all()) {
      if (!type.namespaced) continue;
      for (const item of [...this.items(type).values()]) {
        if (item.metadata.namespace === namespace) this.removeNow(type, item);
      }
    }
  }

  /** A CRD makes its resource served; returns an Invalid status when the CRD is malformed. */
  private registerIfCrd(type: ResourceType, obj: KubeObject) {
    if (!(type.group === "apiextensions.k8s.io" && type.plural === "customresourcedefinitions"))
      return undefined;
    const served = resourceFromCrd(obj);
    if (typeof served === "string") {
      const [field, ...why] = served.split(": ");
      return invalid(this.resourceName(type), obj.metadata.name ?? "", field!, obj, why.join(": "));
    }
    const existing = this.registry.byKey(resourceKey(served.group, served.plural));
    if (existing && !existing.custom) {
      return invalid(
        this.resourceName(type),
        obj.metadata.name ?? "",
        "spec.group",
        served.group,
        "conflicts with a built-in resource",
      );
    }
    this.registry.add(served);
    return undefined;
  }

  /** Assigns the next resourceVersion, stores (unless removing), records history and notifies. */
  private commit(
    type: ChangeEvent["type"],
    resource: ResourceType,
    obj: KubeObject,
    store = true,
  ): KubeObject {
    const previous =
      type === "MODIFIED"
        ? this.items(resource).get(itemKey(obj.metadata.namespace, obj.metadata.name!))
        : undefined;
    this.rv += 1;
    obj.metadata.resourceVersion = String(this.rv);
    if (store) this.items(resource).set(itemKey(obj.metadata.namespace, obj.metadata.name!), obj);
    const ev: ChangeEvent = {
      type,
      resource: resourceKey(resource.group, resource.plural),
      resourceVersion: this.rv,
      object: obj,
      previous,
    };
    this.history.push(ev);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.floor = dropped[dropped.length - 1]!.resourceVersion;
    }
    for (const l of [...this.listeners]) l(ev);
    this.onChange();
    return obj;
  }

  private seedNamespace(name: string): void {
    const nsType = this.registry.find("", "v1", "namespaces")!;
    const created = this.create({ type: nsType, version: "v1" }, { metadata: { name } });
    if (!created.ok) throw new Error(`seeding namespace ${name}: ${created.error.message}`);
  }

  private restore(snapshot: StoreSnapshot): void {
    const crdKey = resourceKey("apiextensions.k8s.io", "customresourcedefinitions");
    const crds = snapshot.objects.filter((o) => o.resource === crdKey);
    for (const { object } of crds) {
      const served = resourceFromCrd(object);
      if (typeof served !== "string") this.registry.add(served);
    }
    for (const { resource, object } of snapshot.objects) {
      const type = this.registry.byKey(resource);
      if (!type) continue;
      this.items(type).set(itemKey(object.metadata.namespace, object.metadata.name!), object);
    }
    this.rv = snapshot.resourceVersion;
    this.floor = this.rv;
  }
}
