/**
 * Canary resources (canaries.meshcanary.io/v1alpha1): an informer delivering add/update/delete of
 * plain objects, and status writes through the status subresource.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
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
  const api = kc.makeApiClient(CustomObjectsApi);
  const base = { group: CANARY_GROUP, version: CANARY_VERSION, plural: CANARY_PLURAL };
  const ns = options.namespace;
  const path = ns
    ? `/apis/${CANARY_GROUP}/${CANARY_VERSION}/namespaces/${ns}/${CANARY_PLURAL}`
    : `/apis/${CANARY_GROUP}/${CANARY_VERSION}/${CANARY_PLURAL}`;
  const list = () =>
    (ns
      ? api.listNamespacedCustomObject({ ...base, namespace: ns })
      : api.listClusterCustomObject(base)) as Promise<{
      metadata?: { resourceVersion?: string };
      items: KubernetesObject[];
    }>;
  const informer = makeInformer<KubernetesObject>(kc, path, list);
  const asCanary = (o: KubernetesObject) => o as unknown as CanaryObject;
  informer.on("add", (o) => handlers.onAdd(asCanary(o)));
  informer.on("update", (o) => handlers.onUpdate(asCanary(o)));
  informer.on("delete", (o) => handlers.onDelete(asCanary(o)));

  let stopped = false;
  let delay = options.restartDelayMs ?? 1000;
  informer.on("error", (err: unknown) => {
    handlers.onError?.(err instanceof Error ? err.message : String(err));
    if (stopped) return;
    // The client's informer stops on error; restart it, backing off while the API stays down.
    void sleep(delay).then(async () => {
      if (stopped) return;
      delay = Math.min(delay * 2, 30_000);
      await informer.start().catch(() => undefined);
    });
  });
  informer.on("connect", () => {
    delay = options.restartDelayMs ?? 1000;
  });

  const started = await call(() => informer.start(), { attempts: 1, baseDelayMs: 0 });
  if (!started.ok) {
    stopped = true;
    await informer.stop().catch(() => undefined);
    return fail(started.error);
  }
  return {
    ok: true,
    value: {
      list: () => informer.list().map(asCanary),
      async stop() {
        stopped = true;
        await informer.stop();
      },
    },
  };
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
