/** RFC 7386 merge patch and RFC 6902 JSON patch, table-driven (examples from the RFCs). */
import { describe, expect, it } from "vitest";
import { jsonPatch, mergePatch } from "../../sandbox/kube-api/patch.js";

describe("mergePatch (RFC 7386 appendix A)", () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [
      ["a", "b"],
      ["c", "d"],
      ["c", "d"],
    ],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)("%j + %j = %j", (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it("does not modify its input", () => {
    const target = { a: { b: 1 } };
    mergePatch(target, { a: { b: 2 } });
    expect(target).toEqual({ a: { b: 1 } });
  });
});

describe("jsonPatch (RFC 6902 appendix A)", () => {
  const ok: [string, unknown, unknown[], unknown][] = [
    [
      "add object member",
      { foo: "bar" },
      [{ op: "add", path: "/baz", value: "qux" }],
      { foo: "bar", baz: "qux" },
    ],
    [
      "add array element",
      { foo: ["bar", "baz"] },
      [{ op: "add", path: "/foo/1", value: "qux" }],
      { foo: ["bar", "qux", "baz"] },
    ],
    ["append with -", { foo: [1] }, [{ op: "add", path: "/foo/-", value: 2 }], { foo: [1, 2] }],
    ["remove member", { baz: "qux", foo: "bar" }, [{ op: "remove", path: "/baz" }], { foo: "bar" }],
    [
      "remove element",
      { foo: ["bar", "qux", "baz"] },
      [{ op: "remove", path: "/foo/1" }],
      { foo: ["bar", "baz"] },
    ],
    [
      "replace",
      { baz: "qux", foo: "bar" },
      [{ op: "replace", path: "/baz", value: "boo" }],
      { baz: "boo", foo: "bar" },
    ],
    [
      "move member",
      { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } },
      [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }],
      { foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } },
    ],
    [
      "move element",
      { foo: ["all", "grass", "cows", "eat"] },
      [{ op: "move", from: "/foo/1", path: "/foo/3" }],
      { foo: ["all", "cows", "eat", "grass"] },
    ],
    ["copy", { a: { x: 1 } }, [{ op: "copy", from: "/a", path: "/b" }], { a: { x: 1 }, b: { x: 1 } }],
    [
      "test passes then add",
      { baz: "qux", foo: ["a", 2, "c"] },
      [
        { op: "test", path: "/baz", value: "qux" },
        { op: "test", path: "/foo/1", value: 2 },
      ],
      { baz: "qux", foo: ["a", 2, "c"] },
    ],
    [
      "escaped pointer",
      { "a/b": 1, "m~n": 2 },
      [
        { op: "replace", path: "/a~1b", value: 3 },
        { op: "remove", path: "/m~0n" },
      ],
      { "a/b": 3 },
    ],
    [
      "add nested object",
      { foo: "bar" },
      [{ op: "add", path: "/child", value: { grandchild: {} } }],
      { foo: "bar", child: { grandchild: {} } },
    ],
    ["replace whole document", { a: 1 }, [{ op: "replace", path: "", value: { b: 2 } }], { b: 2 }],
  ];
  it.each(ok)("%s", (_name, doc, ops, expected) => {
    const r = jsonPatch(doc, ops);
    expect(r).toEqual({ ok: true, value: expected });
  });

  const bad: [string, unknown, unknown, "malformed" | "failed"][] = [
    ["test fails", { baz: "qux" }, [{ op: "test", path: "/baz", value: "bar" }], "failed"],
    [
      "test compares deeply",
      { a: { b: [1, 2] } },
      [{ op: "test", path: "/a", value: { b: [2, 1] } }],
      "failed",
    ],
    ["add to missing parent", { foo: "bar" }, [{ op: "add", path: "/baz/bat", value: "qux" }], "failed"],
    ["remove missing member", { foo: "bar" }, [{ op: "remove", path: "/nope" }], "failed"],
    ["replace missing member", { foo: "bar" }, [{ op: "replace", path: "/nope", value: 1 }], "failed"],
    ["array index out of range", { foo: [1] }, [{ op: "add", path: "/foo/5", value: 2 }], "failed"],
    ["leading-zero index", { foo: [1, 2] }, [{ op: "replace", path: "/foo/01", value: 3 }], "failed"],
    ["unknown op", {}, [{ op: "frobnicate", path: "/a" }], "malformed"],
    ["pointer without slash", {}, [{ op: "add", path: "a", value: 1 }], "malformed"],
    ["add without value", {}, [{ op: "add", path: "/a" }], "malformed"],
    ["not an array", {}, { op: "add", path: "/a", value: 1 }, "malformed"],
  ];
  it.each(bad)("%s → %s", (_name, doc, ops, kind) => {
    const r = jsonPatch(doc, ops);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.kind).toBe(kind);
  });

  it("is all-or-nothing and leaves its input alone", () => {
    const doc = { a: 1, b: [1] };
    const r = jsonPatch(doc, [
      { op: "replace", path: "/a", value: 2 },
      { op: "test", path: "/a", value: 1 },
    ]);
    expect(r.ok).toBe(false);
    expect(doc).toEqual({ a: 1, b: [1] });
  });
});
