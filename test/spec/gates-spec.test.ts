/** spec.gates: the gated sample validates and plans; each bad entry is reported by field and value. */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { planRollout } from "../../controller/rollout/plan.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import { validateCanary } from "../../controller/spec/validate.js";
import { minimal } from "../fixtures/spec/rejections.js";

const gate = (extra: Record<string, unknown> = {}) => ({
  name: "smoke",
  type: "pre-rollout",
  url: "http://gate.example/",
  ...extra,
});
const errorsOf = (gates: unknown[]) => {
  const r = validateCanary(minimal({ gates }));
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
};

describe("spec.gates", () => {
  it("accepts the gated sample and plans its three gates with their defaults", () => {
    const doc = parse(readFileSync("istio/samples/gated/canary.yaml", "utf8"));
    const r = validateCanary(doc);
    expect(r.ok ? [] : r.errors).toEqual([]);
    expect(planRollout(doc.spec as CanarySpec).gates).toEqual([
      { name: "smoke", type: "pre-rollout", intervalMs: 20_000, failureLimit: 3 },
      { name: "change-freeze", type: "confirm-promotion", intervalMs: 60_000, failureLimit: 3 },
      { name: "release-log", type: "post-rollout", intervalMs: 10_000, failureLimit: 3 },
    ]);
  });

  const rejected: Array<[string, unknown[], RegExp]> = [
    ["an unknown type", [gate({ type: "rollout" })], /^spec\.gates\[0\]\.type: .*"rollout"/],
    ["a non-http URL", [gate({ url: "file:///etc/passwd" })], /^spec\.gates\[0\]\.url: /],
    ["a timeout over 60 s", [gate({ timeoutSeconds: 600 })], /^spec\.gates\[0\]\.timeoutSeconds: /],
    ["a bad interval", [gate({ interval: "soon" })], /^spec\.gates\[0\]\.interval: .*"soon"/],
    ["a failure limit of 0", [gate({ failureLimit: 0 })], /^spec\.gates\[0\]\.failureLimit: /],
    ["non-string metadata", [gate({ metadata: { retries: 3 } })], /^spec\.gates\[0\]\.metadata\.retries: /],
    [
      "a duplicate name",
      [gate(), gate({ type: "post-rollout" })],
      /^spec\.gates\[1\]\.name: duplicate gate name "smoke"$/,
    ],
  ];
  it.each(rejected)("rejects %s, naming the field, and nothing else", (_, gates, error) => {
    const errors = errorsOf(gates);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(error);
  });
});
