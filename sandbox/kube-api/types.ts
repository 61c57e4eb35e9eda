import type { SchemaNode } from "./schema.js";

/**
 * Shared shapes of the embedded Kubernetes API: stored objects, served resource types, and the
 * result type every store operation returns (errors are Kubernetes Status values, never throws).
 */

/** Object metadata as the API server manages it; unknown fields are kept as sent. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [field: string]: unknown;
}

/** Any stored Kubernetes object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** One served resource (e.g. networking.istio.io virtualservices) and how the server treats it. */
export interface ResourceType {
  /** API group; "" for the core group served under /api/v1. */
  group: string;
  /** Served versions; all share one storage (no conversion: objects are stored as sent). */
  versions: string[];
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  /** Whether a /status subresource exists (the main endpoint then ignores .status changes). */
  statusSubresource: boolean;
  /** Whether PUT without metadata.resourceVersion is accepted (false for custom resources, as in Kubernetes). */
  allowUnconditionalUpdate: boolean;
  /** What DELETE answers: the deleted object, or a Status (as the built-in type does in Kubernetes). */
  deleteReturns: "object" | "status";
  shortNames?: string[];
  /** Served by a CustomResourceDefinition (removed when the CRD is deleted). */
  custom?: boolean;
  /** A custom resource's OpenAPI schema per served version (pruning and validation). */
  schemas?: Record<string, SchemaNode>;
}

/** A Kubernetes Status object as the API server returns for failures. */
export interface ApiStatus {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message: string;
  reason: string;
  code: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { field: string; message: string }[] };
}

/** Success or a Status error; store operations return this instead of throwing. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiStatus };

/** A change to one object, as recorded in the watch history. */
export interface ChangeEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  /** Storage key of the resource (group/plural). */
  resource: string;
  resourceVersion: number;
  object: KubeObject;
  /** The object before a MODIFIED change, so selector watches can turn it into ADDED/DELETED. */
  previous?: KubeObject;
}
