/** Kubeconfig text for the embedded server: context "meshcanary-sandbox", plain HTTP, a bearer-token user. */
import { stringify } from "yaml";

export const SANDBOX_CONTEXT = "meshcanary-sandbox";

/** YAML kubeconfig pointing client-node or kubectl at url with the given token. */
export function renderKubeconfig(url: string, token: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: SANDBOX_CONTEXT, cluster: { server: url, "insecure-skip-tls-verify": true } }],
    users: [{ name: SANDBOX_CONTEXT, user: { token } }],
    contexts: [
      {
        name: SANDBOX_CONTEXT,
        context: { cluster: SANDBOX_CONTEXT, user: SANDBOX_CONTEXT, namespace: "default" },
      },
    ],
    "current-context": SANDBOX_CONTEXT,
    preferences: {},
  });
}
