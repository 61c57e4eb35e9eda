/**
 * The generated Canary CRD on each API server: served as generated, and every sample and validation
 * case gets the server's verdict that our schema check (structuralErrors) predicts — rejected with
 * the same field paths, or accepted and stored exactly as sent (nothing pruned or defaulted), also
 * with our defaults filled in. Semantic rules (exactly-one-of, duplicates, ...) are the controller's:
 * the server accepts those and the controller reports InvalidSpec (test/kube-real/controller.test.ts).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { canaryCrd } from "../../controller/spec/crd.js";
import { withDefaults } from "../../controller/spec/defaults.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import { structuralErrors, validateCanary } from "../../controller/spec/validate.js";
import type { Json } from "../controller/harness.js";
import { minimal, SPEC_REJECTIONS } from "../fixtures/spec/rejections.js";
import { backendChoices, suiteTitle, type SuiteBackend } from "./backends.js";

const CRD = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/canaries.meshcanary.io";
const CANARIES = "/apis/meshcanary.io/v1alpha1/namespaces/default/canaries";
const read = (path: string) => parse(readFileSync(new URL(`../../${path}`, import.meta.url), "utf8")) as Json;

/** Structural mistakes a user makes in YAML, beyond the fixtures. */
const STRUCTURAL: Array<[string, Record<string, unknown>]> = [
  ["weight as a string", { strategy: { canary: { steps: [{ weight: "10" }] } } }],
  ["host as a number", { host: 5 }],
  ["steps as a number", { strategy: { canary: { steps: 10 } } }],
  ["unknown spec field", { replicas: 3 }],
  ["revertOnDeletion as a string", { revertOnDeletion: "yes" }],
  ["negative minRequests", { analysis: { minRequests: -1 } }],
  ["webhook timeout over the maximum", { webhooks: [{ name: "a", url: "https://x", timeoutSeconds: 61 }] }],
  ["fractional and full weights", { strategy: { canary: { steps: [{ weight: 0.01 }, { weight: 100 }] } } }],
];

const CASES: Array<[string, Json]> = [
  ["sample istio/samples/canary.yaml", read("istio/samples/canary.yaml")],
  ["fixture invalid-steps", read("test/fixtures/spec/invalid-steps.yaml")],
  ["fixture invalid-structure", read("test/fixtures/spec/invalid-structure.yaml")],
  ...SPEC_REJECTIONS.map(([spec, path]): [string, Json] => [
    `rejection at ${path}: ${JSON.stringify(spec)}`,
    minimal(spec),
  ]),
  ...STRUCTURAL.map(([what, spec]): [string, Json] => [what, minimal(spec)]),
];

for (const choice of backendChoices()) {
  const title = suiteTitle("Canary CRD", choice);
  describe.skipIf(choice.skip !== undefined)(title, () => {
    let backend: SuiteBackend;
    beforeAll(async () => {
      backend = await choice.start();
    }, 120_000);
    afterAll(async () => {
      await backend?.api.close();
    });

    it("is Established and served with the generated schema unchanged", async () => {
      const crd = (await backend.req("GET", CRD)).body;
      const generated = canaryCrd() as Json;
      expect(crd.spec.versions).toEqual(generated.spec.versions);
      const established = crd.status.conditions.find((c: Json) => c.type === "Established");
      expect(established.status).toBe("True");
    });

    it.each(CASES.map(([what, obj], i) => [what, obj, i] as const))(
      "%s: the server's verdict is our schema check's",
      async (_what, obj, i) => {
        const body = { ...obj, metadata: { name: `case-${i}`, namespace: "default" } };
        const ours = structuralErrors(body);
        const r = await backend.req("POST", `${CANARIES}?fieldValidation=Strict`, body);
        if (ours.length > 0) {
          // Undeclared fields fail decoding (400) before the schema is checked (422).
          const unknown = ours.filter((e) => e.message.startsWith("unknown field"));
          expect(r.status, JSON.stringify(r.body)).toBe(unknown.length > 0 ? 400 : 422);
          for (const e of unknown.length > 0 ? unknown : ours)
            expect(r.body.message, e.path).toContain(e.path);
          return;
        }
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        expect(r.body.spec).toEqual(body.spec);
        // The controller validates what it reads with its defaults; those must also fit the CRD.
        const defaulted = { ...body, metadata: { name: `case-${i}-defaulted` } };
        defaulted.spec = withDefaults(body.spec as CanarySpec);
        expect(structuralErrors(defaulted)).toEqual([]);
        const d = await backend.req("POST", `${CANARIES}?fieldValidation=Strict`, defaulted);
        expect(d.status, JSON.stringify(d.body)).toBe(201);
        expect(d.body.spec).toEqual(defaulted.spec);
      },
    );

    it("accepts what only the controller's semantic rules reject (they become InvalidSpec)", () => {
      const semantic = SPEC_REJECTIONS.filter(([spec]) => structuralErrors(minimal(spec)).length === 0);
      expect(semantic.length).toBeGreaterThan(5);
      for (const [spec] of semantic) expect(validateCanary(minimal(spec)).ok).toBe(false);
    });
  });
}
