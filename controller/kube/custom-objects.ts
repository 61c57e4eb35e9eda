/**
 * An informer over any custom resource (Canaries, VirtualServices, DestinationRules, ...): it
 * delivers add/update/delete of plain objects and keeps a cache, restarting its watch by itself
 * (with backoff) when the API server drops it.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  makeInformer,
} from "@kubernetes/client-node";
import { call, fail, type KubeResult, sleep } from "./errors.js";

/** Which resource to watch. */
export interface CustomResourceRef {
  group: string;
  version: string;
  plural: string;
  /** Only this namespace; default all namespaces. */
  namespace?: string;
}

/** Callbacks of an informer; errors are reported, then the watch restarts by itself. */
export interface ObjectHandlers<T> {
  onAdd(object: T): void;
  onUpdate(object: T): void;
  onDelete(object: T): void;
  onError?(error: string): void;
}

export interface WatchOptions {
  /** Delay before restarting a failed watch; doubles up to 30 s while failing. */
  restartDelayMs?: number;
}

/** A running informer; list() is its cache. */
export interface ObjectWatch<T> {
  list(): T[];
  stop(): Promise<void>;
}

const MAX_RESTART_DELAY_MS = 30_000;

/** Starts the informer; resolves after the initial list has been delivered. */
export async function watchCustomObjects<T>(
  kc: KubeConfig,
  ref: CustomResourceRef,
  handlers: ObjectHandlers<T>,
  options: WatchOptions = {},
): Promise<KubeResult<ObjectWatch<T>>> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const { group, version, plural, namespace: ns } = ref;
  const path = ns
    ? `/apis/${group}/${version}/namespaces/${ns}/${plural}`
    : `/apis/${group}/${version}/${plural}`;
  const list = () =>
    (ns
      ? api.listNamespacedCustomObject({ group, version, plural, namespace: ns })
      : api.listClusterCustomObject({ group, version, plural })) as Promise<{
      metadata?: { resourceVersion?: string };
      items: KubernetesObject[];
    }>;
  const informer = makeInformer<KubernetesObject>(kc, path, list);
  const asT = (o: KubernetesObject) => o as unknown as T;
  informer.on("add", (o) => handlers.onAdd(asT(o)));
  informer.on("update", (o) => handlers.onUpdate(asT(o)));
  informer.on("delete", (o) => handlers.onDelete(asT(o)));

  let stopped = false;
  const initialDelay = options.restartDelayMs ?? 1000;
  let delay = initialDelay;
  informer.on("error", (err: unknown) => {
    handlers.onError?.(err instanceof Error ? err.message : String(err));
    if (stopped) return;
    // The client's informer stops on error; restart it, backing off while the API stays down.
    void sleep(delay).then(async () => {
      if (stopped) return;
      delay = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
      await informer.start().catch(() => undefined);
    });
  });
  informer.on("connect", () => {
    delay = initialDelay;
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
      list: () => informer.list().map(asT),
      async stop() {
        stopped = true;
        await informer.stop();
      },
    },
  };
}
