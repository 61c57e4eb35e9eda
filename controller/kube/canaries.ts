/**
 * Canary resources (canaries.meshcanary.io/v1alpha1): an informer delivering add/update/delete of
 * plain objects, and status writes through the status subresource.
 */
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { watchCustomObjects } from "./custom-objects.js";
import { call, DEFAULT_RETRY, fail, type KubeResult, type RetryPolicy, sleep } from "./errors.js";

export const CANARY_GROUP = "meshcanary.io";
export const CANARY_VERSION = "v1alpha1";
export const CANARY_PLURAL = "canaries";

/** A Canary as the API returns it; spec and status are validated elsewhere (controller/spec). */
export interface CanaryObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    /** Set by the API server on DELETE while finalizers remain. */
    deletionTimestamp?: string;
    /** RFC 3339, set by the API server. */
    creationTimestamp?: string;
  };
  spec?: unknown;
  status?: unknown;
}

/** Callbacks of the Canary informer; errors are reported, then the watch restarts by itself. */
export interface CanaryHandlers {
  onAdd(canary: CanaryObject): void;
  onUpdate(canary: CanaryObject): void;
  onDelete(canary: CanaryObject): void;
  onError?(error: string): void;
}

export interface CanaryWatchOptions {
  /** Only this namespace; default all namespaces. */
  namespace?: string;
  /** Delay before restarting a failed watch; doubles up to 30 s while failing. */
  restartDelayMs?: number;
}

/** A running informer; list() is its cache. */
export interface CanaryWatch {
  list(): CanaryObject[];
  stop(): Promise<void>;
}

/** Starts the informer; resolves after the initial list has been delivered. */
export async function watchCanaries(
  kc: KubeConfig,
  handlers: CanaryHandlers,
  options: CanaryWatchOptions = {},
): Promise<KubeResult<CanaryWatch>> {
  return watchCustomObjects<CanaryObject>(
    kc,
    { group: CANARY_GROUP, version: CANARY_VERSION, plural: CANARY_PLURAL, namespace: options.namespace },
    handlers,
    options,
  );
}

/**
 * Merge-patches `status` of a Canary through the status subresource. A merge patch carries no
 * resourceVersion, so it cannot lose a race with spec edits; a 409 (e.g. from admission) is retried.
 * To remove a status field, set it to null.
 */
export async function patchCanaryStatus(
  kc: KubeConfig,
  namespace: string,
  name: string,
  status: Record<string, unknown>,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<KubeResult<CanaryObject>> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const params = {
    group: CANARY_GROUP,
    version: CANARY_VERSION,
    plural: CANARY_PLURAL,
    namespace,
    name,
    body: { status },
  };
  const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  let result: KubeResult<CanaryObject> = fail({ reason: "Other", code: 0, message: "no attempt made" });
  for (let attempt = 0; attempt < retry.attempts; attempt++) {
    if (attempt > 0) await sleep(retry.baseDelayMs * 2 ** (attempt - 1));
    result = await call(
      () => api.patchNamespacedCustomObjectStatus(params, merge) as Promise<CanaryObject>,
      retry,
    );
    if (result.ok || result.error.reason !== "Conflict") return result;
  }
  return result;
}

/** Annotation through which operators ask the controller for a command: "<command>/<nonce>". */
export const COMMAND_ANNOTATION = "meshcanary.io/command";

/**
 * Asks the controller for an operator command by annotating the Canary (works without reaching the
 * controller). The nonce (Unix ms, made unique per process) lets the controller apply each request once.
 */
export async function requestCommand(
  kc: KubeConfig,
  namespace: string,
  name: string,
  command: string,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<KubeResult<{ value: string }>> {
  lastNonce = Math.max(lastNonce + 1, Date.now());
  const value = `${command}/${lastNonce}`;
  const body = { metadata: { annotations: { [COMMAND_ANNOTATION]: value } } };
  const patched = await mergePatchCanary(kc, namespace, name, body, retry);
  return patched.ok ? { ok: true, value: { value } } : fail(patched.error);
}

let lastNonce = 0;

/**
 * Replaces a Canary's finalizer list, conditional on the resourceVersion the list was read at (a
 * merge patch carrying metadata.resourceVersion is refused with 409 when the object moved on).
 */
export async function setCanaryFinalizers(
  kc: KubeConfig,
  canary: CanaryObject,
  finalizers: string[],
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<KubeResult<CanaryObject>> {
  const { namespace, name, resourceVersion } = canary.metadata;
  const body = { metadata: { finalizers, ...(resourceVersion ? { resourceVersion } : {}) } };
  return mergePatchCanary(kc, namespace, name, body, retry);
}

/** One JSON merge patch of a Canary (main resource, not status). */
function mergePatchCanary(
  kc: KubeConfig,
  namespace: string,
  name: string,
  body: Record<string, unknown>,
  retry: RetryPolicy,
): Promise<KubeResult<CanaryObject>> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const params = {
    group: CANARY_GROUP,
    version: CANARY_VERSION,
    plural: CANARY_PLURAL,
    namespace,
    name,
    body,
  };
  const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  return call(() => api.patchNamespacedCustomObject(params, merge) as Promise<CanaryObject>, retry);
}

/** Reads one Canary; a missing one is a NotFound error. */
export async function getCanary(
  kc: KubeConfig,
  namespace: string,
  name: string,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<KubeResult<CanaryObject>> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const params = { group: CANARY_GROUP, version: CANARY_VERSION, plural: CANARY_PLURAL, namespace, name };
  return call(() => api.getNamespacedCustomObject(params) as Promise<CanaryObject>, retry);
}

/** Lists the Canaries of a namespace, or of all namespaces when namespace is undefined. */
export async function listCanaries(
  kc: KubeConfig,
  namespace: string | undefined,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<KubeResult<CanaryObject[]>> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const base = { group: CANARY_GROUP, version: CANARY_VERSION, plural: CANARY_PLURAL };
  const listed = await call(
    () =>
      (namespace === undefined
        ? api.listClusterCustomObject(base)
        : api.listNamespacedCustomObject({ ...base, namespace })) as Promise<{ items: CanaryObject[] }>,
    retry,
  );
  return listed.ok ? { ok: true, value: listed.value.items } : fail(listed.error);
}
