/**
 * Watch streams: newline-delimited JSON events (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR) on a
 * held-open HTTP response, resumable from a resourceVersion, ending with a 410 ERROR event when
 * that version is older than the retained history (so informers relist).
 */
import type { ServerResponse } from "node:http";
import type { Selector } from "./selectors.js";
import { gone } from "./status.js";
import type { ObjectStore, Target } from "./store.js";
import type { ApiStatus, ChangeEvent, KubeObject } from "./types.js";
import { resourceKey } from "./resources.js";

/** One line of a watch stream. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject | ApiStatus;
}

/** What a watch selects: one resource, optionally one namespace, objects passing the selector. */
export interface WatchFilter {
  resource: string;
  namespace?: string;
  selector: Selector;
}

/** The event a watcher with this filter sees for a change, if any (selector transitions become ADDED/DELETED). */
export function eventFor(ev: ChangeEvent, filter: WatchFilter): WatchEvent | undefined {
  if (ev.resource !== filter.resource) return undefined;
  if (filter.namespace !== undefined && ev.object.metadata.namespace !== filter.namespace) return undefined;
  const now = filter.selector(ev.object);
  if (ev.type !== "MODIFIED") return now ? { type: ev.type, object: ev.object } : undefined;
  const before = ev.previous !== undefined && filter.selector(ev.previous);
  if (before && now) return { type: "MODIFIED", object: ev.object };
  if (now) return { type: "ADDED", object: ev.object };
  if (before) return { type: "DELETED", object: ev.object };
  return undefined;
}

/** Parameters of one watch request. */
export interface WatchParams {
  target: Target;
  selector: Selector;
  /** Resume point; undefined or "0" starts with ADDED events for every existing object. */
  resourceVersion?: string;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  bookmarkIntervalMs: number;
  /** Renders a stored object as the client's API version. */
  present: (obj: KubeObject) => KubeObject;
}

/** An open watch stream; end() closes it (idempotent). */
export interface WatchSession {
  end(): void;
}

/** Starts streaming events to res; the session ends on timeout, client disconnect, expiry or end(). */
export function startWatch(store: ObjectStore, params: WatchParams, res: ServerResponse): WatchSession {
  const { target, present } = params;
  const filter: WatchFilter = {
    resource: resourceKey(target.type.group, target.type.plural),
    namespace: target.namespace,
    selector: params.selector,
  };
  const timers: NodeJS.Timeout[] = [];
  const cleanups: (() => void)[] = [];
  let ended = false;
  const send = (ev: WatchEvent) => {
    if (!ended) res.write(JSON.stringify(ev) + "\n");
  };
  const sendChange = (change: ChangeEvent) => {
    const ev = eventFor(change, filter);
    if (ev) send({ type: ev.type, object: present(ev.object as KubeObject) });
  };
  const bookmark = () => {
    const rv = String(store.resourceVersion());
    send({
      type: "BOOKMARK",
      object: {
        kind: target.type.kind,
        apiVersion: present({ metadata: {} }).apiVersion,
        metadata: { resourceVersion: rv },
      },
    });
  };
  const session: WatchSession = {
    end() {
      if (ended) return;
      ended = true;
      for (const t of timers) clearTimeout(t);
      for (const c of cleanups) c();
      res.end();
    },
  };

  res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache" });
  res.flushHeaders();
  res.on("close", () => session.end());

  const rv = params.resourceVersion;
  if (rv === undefined || rv === "" || rv === "0") {
    for (const obj of store.list(target, params.selector)) send({ type: "ADDED", object: present(obj) });
  } else {
    const replay = store.changes.changesSince(Number(rv));
    if (!replay.ok) {
      send({ type: "ERROR", object: replay.error });
      session.end();
      return session;
    }
    for (const change of replay.value) sendChange(change);
  }
  cleanups.push(store.changes.subscribe(sendChange));
  cleanups.push(
    store.changes.onExpire(() => {
      send({
        type: "ERROR",
        object: gone("watch expired: the requested resource version is no longer retained"),
      });
      session.end();
    }),
  );
  if (params.allowBookmarks) {
    const interval = setInterval(bookmark, params.bookmarkIntervalMs);
    timers.push(interval);
  }
  if (params.timeoutSeconds !== undefined && params.timeoutSeconds > 0) {
    timers.push(
      setTimeout(() => {
        if (params.allowBookmarks) bookmark();
        session.end();
      }, params.timeoutSeconds * 1000),
    );
  }
  return session;
}
