import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { canaryCrd } from "../../controller/spec/crd.js";
import { CRD_PATH, crdYaml } from "../../controller/spec/generate-crd.js";

type Node = Record<string, unknown>;

/** Every schema node under openAPIV3Schema with its path. */
function nodes(node: Node, path: string, out: Array<[string, Node]> = []): Array<[string, Node]> {
  out.push([path, node]);
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
    nodes(child, `${path}.${name}`, out);
  }
  if (node.items) nodes(node.items as Node, `${path}[]`, out);
  if (typeof node.additionalProperties === "object")
    nodes(node.additionalProperties as Node, `${path}{}`, out);
  return out;
}

describe("canary CRD", () => {
  const crd = canaryCrd() as { spec: { versions: Array<Node & { schema: { openAPIV3Schema: Node } }> } };
  const version = crd.spec.versions[0]!;

  it("is committed as generated", () => {
    expect(readFileSync(CRD_PATH, "utf8"), "run `npx tsx controller/spec/generate-crd.ts`").toBe(crdYaml());
  });

  it("round-trips through YAML", () => {
    expect(parse(crdYaml())).toEqual(JSON.parse(JSON.stringify(crd)));
  });

  it("is structural: a type on every node, no anyOf/const/$id/defaults, no closed objects", () => {
    const all = nodes(version.schema.openAPIV3Schema, "");
    expect(all.length).toBeGreaterThan(80);
    for (const [path, node] of all) {
      expect(typeof node.type, `type at ${path}`).toBe("string");
      for (const banned of ["anyOf", "oneOf", "const", "$id", "$schema", "default"]) {
        expect(banned in node, `${banned} at ${path}`).toBe(false);
      }
      // Closed-object flags are dropped; a map's value schema (additionalProperties: {...}) stays.
      if ("additionalProperties" in node) expect(typeof node.additionalProperties, path).toBe("object");
      if (node.exclusiveMinimum !== undefined) expect(node.exclusiveMinimum, path).toBe(true);
    }
    const preserved = all.filter(([, node]) => node["x-kubernetes-preserve-unknown-fields"]).map(([p]) => p);
    expect(preserved).toEqual([".status.lastDecision.checks[]", ".status.analysisState", ".status.report"]);
    const maps = all.filter(([, node]) => "additionalProperties" in node).map(([p]) => p);
    expect(maps).toEqual([".spec.gates[].metadata"]);
  });

  it("has the status subresource, printer columns and enums", () => {
    expect(version.subresources).toEqual({ status: {} });
    expect((version.additionalPrinterColumns as Node[]).map((c) => [c.name, c.jsonPath])).toEqual([
      ["Phase", ".status.phase"],
      ["Weight", ".status.canaryWeight"],
      ["Step", ".status.step"],
      ["Age", ".metadata.creationTimestamp"],
    ]);
    const phase = nodes(version.schema.openAPIV3Schema, "").find(([p]) => p === ".status.phase")![1];
    expect(phase).toMatchObject({
      type: "string",
      enum: expect.arrayContaining(["Progressing", "RolledBack"]),
    });
  });
});
