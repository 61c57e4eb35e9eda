/** Public surface of the embedded Kubernetes API server. */
export { type FaultAction, FaultInjector, type FaultMatch } from "./faults.js";
export { SANDBOX_CONTEXT } from "./kubeconfig.js";
export { type KubeApiOptions, type KubeApiServer, startKubeApi } from "./server.js";
export { ObjectStore, type StoreSnapshot, type Target } from "./store.js";
export type { ApiStatus, KubeObject, ResourceType } from "./types.js";
