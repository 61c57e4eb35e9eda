/** Label and field selector parsing and matching, and the watch event a selector-filtered watcher sees. */
import { describe, expect, it } from "vitest";
import { parseFieldSelector, parseLabelSelector } from "../../sandbox/kube-api/selectors.js";
import type { ChangeEvent, KubeObject } from "../../sandbox/kube-api/types.js";
import { eventFor } from "../../sandbox/kube-api/watch.js";

function obj(name: string, labels?: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name, namespace: "default", labels }, ...extra };
}

describe("parseLabelSelector", () => {
  const web = obj("a", { app: "web", tier: "front" });
  const db = obj("b", { app: "db" });
  const bare = obj("c");
  const cases: [string, boolean[]][] = [
    ["", [true, true, true]],
    ["app=web", [true, false, false]],
    ["app==web", [true, false, false]],
    ["app!=web", [false, true, true]],
    ["app in (web, db)", [true, true, false]],
    ["app notin (web)", [false, true, true]],
    ["tier", [true, false, false]],
    ["!tier", [false, true, true]],
    ["app in (web,db),!tier", [false, true, false]],
    ["app=web,tier=front", [true, false, false]],
  ];
  it.each(cases)("%j selects %j of (web, db, bare)", (text, expected) => {
    const s = parseLabelSelector(text);
    if (typeof s === "string") throw new Error(s);
    expect([web, db, bare].map(s)).toEqual(expected);
  });

  it.each(["app in web", "a=b=c", "(x)"])("rejects %j naming the term", (text) => {
    expect(parseLabelSelector(text)).toMatch(/^labelSelector: unable to parse requirement/);
  });
});

describe("parseFieldSelector", () => {
  const ev = obj("e1", undefined, { involvedObject: { name: "web", kind: "Canary" } });
  const cases: [string, boolean][] = [
    ["metadata.name=e1", true],
    ["metadata.name==e1", true],
    ["metadata.name!=e1", false],
    ["metadata.namespace=default", true],
    ["involvedObject.name=web,involvedObject.kind=Canary", true],
    ["involvedObject.name=other", false],
    ["spec.missing=", true],
  ];
  it.each(cases)("%j → %s", (text, expected) => {
    const s = parseFieldSelector(text);
    if (typeof s === "string") throw new Error(s);
    expect(s(ev)).toBe(expected);
  });

  it("rejects a term without an operator", () => {
    expect(parseFieldSelector("metadata.name")).toMatch(/^fieldSelector: invalid selector "metadata.name"/);
  });
});

describe("eventFor (selector-filtered watch)", () => {
  const selector = parseLabelSelector("app=web") as (o: KubeObject) => boolean;
  const filter = { resource: "/configmaps", namespace: "default", selector };
  const change = (type: ChangeEvent["type"], now: KubeObject, previous?: KubeObject): ChangeEvent => ({
    type,
    resource: "/configmaps",
    resourceVersion: 7,
    object: now,
    previous,
  });
  const web = obj("x", { app: "web" });
  const db = obj("x", { app: "db" });
  const cases: [string, ChangeEvent, string | undefined][] = [
    ["added, matching", change("ADDED", web), "ADDED"],
    ["added, not matching", change("ADDED", db), undefined],
    ["modified, still matching", change("MODIFIED", web, web), "MODIFIED"],
    ["modified into the selector", change("MODIFIED", web, db), "ADDED"],
    ["modified out of the selector", change("MODIFIED", db, web), "DELETED"],
    ["modified, never matching", change("MODIFIED", db, db), undefined],
    ["deleted, matching", change("DELETED", web), "DELETED"],
    ["other resource", { ...change("ADDED", web), resource: "/secrets" }, undefined],
    [
      "other namespace",
      change("ADDED", { metadata: { name: "x", namespace: "kube-system", labels: { app: "web" } } }),
      undefined,
    ],
  ];
  it.each(cases)("%s → %s", (_name, ev, expected) => {
    expect(eventFor(ev, filter)?.type).toBe(expected);
  });
});
