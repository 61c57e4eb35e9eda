/**
 * Kubernetes Events (core/v1) about Canaries. Repeats of the same (object, type, reason, message)
 * are aggregated like kubectl shows them: one Event whose count and lastTimestamp grow.
 */
import { CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { call, type KubeResult, ok } from "./errors.js";

/** The object an Event is about. */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

/** One thing that happened: Normal or Warning, a CamelCase reason and a human message. */
export interface EventNote {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface EventRecorder {
  /** Creates the Event, or bumps the count of an identical recent one. */
  record(about: InvolvedObject, note: EventNote): Promise<KubeResult<{ name: string; count: number }>>;
}

export interface EventRecorderOptions {
  /** source.component of every Event, e.g. "meshcanary-controller". */
  component: string;
  /** Clock, for tests. */
  now?: () => Date;
  /** Remembered distinct events (oldest forgotten first). */
  cacheSize?: number;
}

export function kubeEventRecorder(kc: KubeConfig, options: EventRecorderOptions): EventRecorder {
  const api = kc.makeApiClient(CoreV1Api);
  const now = options.now ?? (() => new Date());
  const cacheSize = options.cacheSize ?? 1024;
  const seen = new Map<string, { name: string; count: number }>();
  const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

  const create = async (about: InvolvedObject, note: EventNote, key: string) => {
    const at = now();
    const name = `${about.name}.${(at.getTime() * 1_000_000 + seen.size).toString(16)}`;
    const body = {
      metadata: { name, namespace: about.namespace },
      involvedObject: { ...about },
      type: note.type,
      reason: note.reason,
      message: note.message,
      count: 1,
      firstTimestamp: at,
      lastTimestamp: at,
      source: { component: options.component },
      reportingComponent: options.component,
    };
    const created = await call(() => api.createNamespacedEvent({ namespace: about.namespace, body }));
    if (!created.ok) return created;
    remember(key, { name, count: 1 });
    return ok({ name, count: 1 });
  };

  const remember = (key: string, entry: { name: string; count: number }) => {
    seen.delete(key);
    seen.set(key, entry);
    if (seen.size > cacheSize) seen.delete(seen.keys().next().value as string);
  };

  return {
    async record(about, note) {
      const key = JSON.stringify([
        about.namespace,
        about.kind,
        about.name,
        note.type,
        note.reason,
        note.message,
      ]);
      const prior = seen.get(key);
      if (!prior) return create(about, note, key);
      const count = prior.count + 1;
      const body = { count, lastTimestamp: now() };
      const patched = await call(() =>
        api.patchNamespacedEvent({ namespace: about.namespace, name: prior.name, body }, merge),
      );
      // The API server expires Events (1 h by default): start a new one.
      if (!patched.ok && patched.error.reason === "NotFound") return create(about, note, key);
      if (!patched.ok) return patched;
      remember(key, { name: prior.name, count });
      return ok({ name: prior.name, count });
    },
  };
}
