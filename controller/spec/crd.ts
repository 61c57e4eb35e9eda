/**
 * The CustomResourceDefinition of canaries.meshcanary.io, its OpenAPI v3 schema derived from
 * schema.ts and made structural for Kubernetes: `type` on every node, enums instead of anyOf,
 * no closed-object flags (the API server prunes unknown fields), no defaults (the controller
 * applies them, see defaults.ts), exclusive bounds as OpenAPI v3.0 booleans.
 */
import { API_VERSION, CanarySpecSchema, CanaryStatusSchema, GROUP, KIND, PLURAL, VERSION } from "./schema.js";

type JsonSchema = Record<string, unknown>;

/** The CRD as a plain object, ready to serialise to YAML or apply. */
export function canaryCrd(): object {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: "canary",
        shortNames: ["mcanary"],
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Phase", type: "string", jsonPath: ".status.phase" },
            { name: "Weight", type: "number", jsonPath: ".status.canaryWeight" },
            { name: "Step", type: "integer", jsonPath: ".status.step" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: `${KIND} (${API_VERSION}): progressive delivery of a mesh host, decided inside the proxy`,
              required: ["spec"],
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: structural(CanarySpecSchema),
                status: structural(CanaryStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}

/** A TypeBox schema as a Kubernetes structural schema (a fresh plain object; symbols dropped). */
export function structural(schema: object): JsonSchema {
  const node = schema as JsonSchema;
  const anyOf = node.anyOf as JsonSchema[] | undefined;
  if (anyOf?.every((option) => "const" in option)) {
    const values = anyOf.map((option) => option.const);
    return withDescription({ type: typeof values[0], enum: values }, node);
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$id" || key === "$schema" || key === "default") continue;
    if (key === "additionalProperties" && typeof value === "boolean") continue;
    // A map's value schema (e.g. string pairs) is kept, made structural like any other node.
    if (key === "additionalProperties") {
      out[key] = structural(value as object);
      continue;
    }
    if (key === "const") {
      out.enum = [value];
      continue;
    }
    // OpenAPI v3.0 (Kubernetes) spells an exclusive bound as a boolean beside minimum.
    if (key === "exclusiveMinimum") {
      out.minimum = value;
      out.exclusiveMinimum = true;
      continue;
    }
    if (key === "properties" && Object.keys(value as object).length === 0) continue;
    out[key] =
      key === "properties"
        ? mapValues(value as JsonSchema)
        : key === "items"
          ? structural(value as object)
          : Array.isArray(value)
            ? [...value] // a shared array would come out as a YAML alias
            : value;
  }
  return out;
}

function mapValues(properties: JsonSchema): JsonSchema {
  return Object.fromEntries(
    Object.entries(properties).map(([name, schema]) => [name, structural(schema as object)]),
  );
}

function withDescription(out: JsonSchema, from: JsonSchema): JsonSchema {
  return from.description === undefined
    ? out
    : { type: out.type, description: from.description, enum: out.enum };
}
