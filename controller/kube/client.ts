/**
 * Where the Kubernetes connection comes from: a kubeconfig (file or text, optional context) or the
 * in-cluster service account. Returns the client's KubeConfig, which the other kube/ modules take.
 */
import { KubeConfig } from "@kubernetes/client-node";

export type { KubeConfig };

/** How to reach the API server; with nothing set, the default kubeconfig ($KUBECONFIG, ~/.kube/config). */
export interface KubeConnectOptions {
  /** Path of a kubeconfig file. */
  kubeconfig?: string;
  /** Kubeconfig content (YAML), e.g. from the embedded sandbox API. */
  kubeconfigText?: string;
  /** Context to use instead of the kubeconfig's current one. */
  context?: string;
  /** Use the pod's service account (ignores the other fields). */
  inCluster?: boolean;
}

export function loadKubeConfig(options: KubeConnectOptions = {}): KubeConfig | { error: string } {
  const kc = new KubeConfig();
  try {
    if (options.inCluster) kc.loadFromCluster();
    else if (options.kubeconfigText !== undefined) kc.loadFromString(options.kubeconfigText);
    else if (options.kubeconfig !== undefined) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    const source = options.inCluster ? "in-cluster config" : (options.kubeconfig ?? "kubeconfig");
    return { error: `${source}: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (options.context !== undefined && !options.inCluster) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map((c) => c.name);
      return {
        error: `context: no context "${options.context}" in kubeconfig (have: ${known.join(", ") || "none"})`,
      };
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) return { error: "kubeconfig: no current cluster" };
  return kc;
}
