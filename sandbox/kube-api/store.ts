/**
 * The object store behind the API: objects by (resource, namespace, name) and the operations of
 * the Kubernetes API server on them (create, replace, delete with finalizers, cascading removal of
 * a namespace's or a CRD's objects, CRDs registering their resources), plus snapshot and restore.
 * What a write may change lives in write-rules.ts; resourceVersions, history and watch fan-out in
 * change-log.ts. Synchronous and in memory; every operation returns a Result instead of throwing.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { ChangeLog } from "./change-log.js";
import { applyDefaults } from "./defaults.js";
import {
  apiVersionOf,
  isCrdType,
  ResourceRegistry,
  resourceFromCrd,
  resourceKey,
  resourceName,
} from "./resources.js";
import type { Selector } from "./selectors.js";
import { alreadyExists, badRequest, err, invalid, notFound, ok } from "./status.js";
import type { ChangeEvent, KubeObject, Result, ResourceType } from "./types.js";
import { checkBody, nameProblem } from "./validate.js";
import {
  type DeletePreconditions,
  deletePreconditionProblem,
  mainUpdate,
  resourceVersionProblem,
  sameContent,
  schemaProblem,
  statusUpdate,
} from "./write-rules.js";

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

/** Deletion outcome: the object is gone, or only marked (finalizers pending). */
export interface Deleted {
  object: KubeObject;
  finalized: boolean;
}

export const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function itemKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

export class ObjectStore {
  readonly registry = new ResourceRegistry();
  /** resourceVersions, the history watches resume from, and the watches' subscriptions. */
  readonly changes: ChangeLog;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly onChange: () => void;

  constructor(opts: StoreOptions = {}, snapshot?: StoreSnapshot) {
    this.changes = new ChangeLog(opts.historyLimit ?? 1000);
    this.onChange = () => {};
    if (snapshot) this.restore(snapshot);
    else for (const ns of DEFAULT_NAMESPACES) this.seedNamespace(ns);
    this.onChange = opts.onChange ?? (() => {});
  }

  /** Current (latest) resourceVersion. */
  resourceVersion(): number {
    return this.changes.resourceVersion();
  }

  snapshot(): StoreSnapshot {
    const objects: StoreSnapshot["objects"] = [];
    for (const [resource, items] of this.objects) {
      for (const object of items.values()) objects.push({ resource, object });
    }
    return { resourceVersion: this.resourceVersion(), objects };
  }

  get(t: Target, name: string): Result<KubeObject> {
    const obj = this.items(t.type).get(itemKey(t.namespace, name));
    return obj ? ok(obj) : err(notFound(resourceName(t.type), name));
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
    const resource = resourceName(t.type);
    if (!meta.name && meta.generateName)
      meta.name = meta.generateName + randomBytes(3).toString("hex").slice(0, 5);
    const name = meta.name ?? "";
    if (name === "")
      return err(invalid(resource, name, "metadata.name", name, "name or generateName is required"));
    const bad = nameProblem(t.type, name);
    if (bad) return err(invalid(resource, name, "metadata.name", name, bad));
    const nsProblem = this.namespaceProblem(t, meta.namespace);
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
    const schemaInvalid = schemaProblem(t.type, t.version, obj, strict);
    if (schemaInvalid) return err(schemaInvalid);
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
    const precondition = resourceVersionProblem(t.type, stored, incoming.metadata?.resourceVersion);
    if (precondition) return err(precondition);
    const next = mode === "status" ? statusUpdate(stored, incoming) : mainUpdate(t.type, stored, incoming);
    const schemaInvalid = schemaProblem(t.type, t.version, next, strict);
    if (schemaInvalid) return err(schemaInvalid);
    if (sameContent(next, stored)) return ok(stored);
    if (isCrdType(t.type)) {
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
    const precondition = deletePreconditionProblem(t.type, stored, preconditions);
    if (precondition) return err(precondition);
    if ((stored.metadata.finalizers ?? []).length > 0) {
      if (stored.metadata.deletionTimestamp) return ok({ object: stored, finalized: false });
      const marked = structuredClone(stored);
      marked.metadata.deletionTimestamp = timestamp();
      marked.metadata.deletionGracePeriodSeconds = 0;
      return ok({ object: this.commit("MODIFIED", t.type, marked), finalized: false });
    }
    return ok({ object: this.removeNow(t.type, stored), finalized: true });
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

  private namespaceProblem(t: Target, bodyNamespace: string | undefined) {
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

  /** Removes the object (and what depends on it: a namespace's objects, a CRD's resources). */
  private removeNow(type: ResourceType, obj: KubeObject): KubeObject {
    if (type.group === "" && type.plural === "namespaces") this.removeNamespaceContents(obj.metadata.name!);
    if (isCrdType(type)) {
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
    if (!isCrdType(type)) return undefined;
    const served = resourceFromCrd(obj);
    if (typeof served === "string") {
      const [field, ...why] = served.split(": ");
      return invalid(resourceName(type), obj.metadata.name ?? "", field!, obj, why.join(": "));
    }
    const existing = this.registry.byKey(resourceKey(served.group, served.plural));
    if (existing && !existing.custom) {
      return invalid(
        resourceName(type),
        obj.metadata.name ?? "",
        "spec.group",
        served.group,
        "conflicts with a built-in resource",
      );
    }
    this.registry.add(served);
    return undefined;
  }

  /** Assigns the next resourceVersion, stores (unless removing), and hands the change to the log. */
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
    const resourceVersion = this.changes.next();
    obj.metadata.resourceVersion = String(resourceVersion);
    if (store) this.items(resource).set(itemKey(obj.metadata.namespace, obj.metadata.name!), obj);
    const ev: ChangeEvent = {
      type,
      resource: resourceKey(resource.group, resource.plural),
      resourceVersion,
      object: obj,
      previous,
    };
    this.changes.publish(ev);
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
    this.changes.restoreAt(snapshot.resourceVersion);
  }
}
