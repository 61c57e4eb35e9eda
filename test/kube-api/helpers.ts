/** Shared helpers for the kube-api tests: a client-node KubeConfig for a server and a bounded wait. */
import { KubeConfig } from "@kubernetes/client-node";
import type { KubeApiServer } from "../../sandbox/kube-api/index.js";

export function kubeConfigFor(server: KubeApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return kc;
}

/** Resolves when cond() holds; rejects after limitMs with what was awaited (a bound, not a timing assertion). */
export async function until(what: string, cond: () => boolean, limitMs = 5000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A minimal CRD for canaries.meshcanary.io v1alpha1 with a status subresource. */
export const CANARY_CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "canaries.meshcanary.io" },
  spec: {
    group: "meshcanary.io",
    scope: "Namespaced",
    names: { plural: "canaries", singular: "canary", kind: "Canary", shortNames: ["cny"] },
    versions: [
      {
        name: "v1alpha1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        subresources: { status: {} },
      },
    ],
  },
};

/**
 * CANARY_CRD as client-node's typed API takes it: its serializer writes the model's field
 * x_kubernetes_preserve_unknown_fields and silently drops the wire name, which would leave a schema
 * that prunes every field (as a real API server, and now the embedded one, does).
 */
export const CANARY_CRD_MODEL = {
  ...CANARY_CRD,
  spec: {
    ...CANARY_CRD.spec,
    versions: CANARY_CRD.spec.versions.map((v) => ({
      ...v,
      schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
    })),
  },
};

/** A CRD whose schema uses each structural feature the embedded server checks (types, bounds, enum, int-or-string, maps, nullable, preserve-unknown, status). */
export const WIDGET_CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                required: ["size"],
                properties: {
                  size: { type: "integer", minimum: 1, maximum: 10 },
                  color: { type: "string", enum: ["red", "blue"] },
                  port: { "x-kubernetes-int-or-string": true },
                  labels: { type: "object", additionalProperties: { type: "string", maxLength: 5 } },
                  note: { type: "string", nullable: true },
                  extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                  parts: {
                    type: "array",
                    maxItems: 2,
                    items: { type: "object", properties: { id: { type: "string" } } },
                  },
                },
              },
              status: { type: "object", properties: { phase: { type: "string", pattern: "^[A-Z]" } } },
            },
          },
        },
      },
    ],
  },
};
