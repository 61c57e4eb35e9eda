/**
 * The few Kubernetes API calls the demo makes to set the stage (apply manifests, read a Canary),
 * what `kubectl apply` / `kubectl get` would do, through controller/kube like everything else.
 */
import { loadKubeConfig } from "../../controller/kube/client.js";
import { kubeObjectStore, type Manifest, type ObjectStore } from "../../controller/kube/objects.js";

export type { Manifest };
export type KubeRest = ObjectStore;

/** An object store on the Kubernetes API that a kubeconfig (text) points at. */
export function kubeRest(kubeconfigText: string): KubeRest {
  const kc = loadKubeConfig({ kubeconfigText });
  if ("error" in kc) throw new Error(`kubeconfig: ${kc.error}`);
  return kubeObjectStore(kc);
}
