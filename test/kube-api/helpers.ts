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
