/**
 * What the sandbox sidecar routes by: the current VirtualService specs and DestinationRules, kept
 * up to date from a Kubernetes API (the embedded one in the sandbox) by two informers — the part of
 * istiod's job the sidecar needs. Changes apply to the next request.
 */
import type { KubeConfig } from "../../controller/kube/client.js";
import { type ObjectWatch, watchCustomObjects } from "../../controller/kube/custom-objects.js";
import type { NamespacedVirtualService } from "../envoy/istio-xds.js";
import type { VirtualServiceSpec } from "./virtual-service-router.js";

const GROUP = "networking.istio.io";

/** A DestinationRule subset: a name for the pods carrying these labels. */
export interface Subset {
  name: string;
  labels?: Record<string, string>;
}

/** The parts of a DestinationRule the sandbox uses. */
export interface DestinationRuleView {
  namespace: string;
  name: string;
  host: string;
  subsets: Subset[];
}

/** Live routing configuration. */
export interface VirtualServiceSource {
  /** Current VirtualService specs, ordered by namespace/name (cheap: cached between changes). */
  virtualServices(): VirtualServiceSpec[];
  /** The same with namespace and name (istiod resolves short hosts in the VirtualService's namespace). */
  namespacedVirtualServices(): NamespacedVirtualService[];
  destinationRules(): DestinationRuleView[];
  /** Called after every add/update/delete of either kind; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface VirtualServiceSourceOptions {
  /** Only this namespace; default all. */
  namespace?: string;
  /** API version of networking.istio.io to watch; default "v1". */
  version?: string;
  /** Watch errors (the watch restarts by itself). */
  onError?: (error: string) => void;
}

interface IstioObject {
  metadata: { namespace?: string; name: string };
  spec?: Record<string, unknown>;
}

function byName(a: IstioObject, b: IstioObject): number {
  const ka = `${a.metadata.namespace ?? ""}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ""}/${b.metadata.name}`;
  return ka.localeCompare(kb);
}

function ruleView(o: IstioObject): DestinationRuleView {
  const spec = o.spec ?? {};
  return {
    namespace: o.metadata.namespace ?? "",
    name: o.metadata.name,
    host: String(spec.host ?? ""),
    subsets: Array.isArray(spec.subsets) ? (spec.subsets as Subset[]) : [],
  };
}

/** Starts watching; resolves once both initial lists are in, or with the first error. */
export async function startVirtualServiceSource(
  kc: KubeConfig,
  options: VirtualServiceSourceOptions = {},
): Promise<{ ok: true; value: VirtualServiceSource } | { ok: false; error: string }> {
  const listeners = new Set<() => void>();
  let vsCache: NamespacedVirtualService[] | undefined;
  let specCache: VirtualServiceSpec[] | undefined;
  let drCache: DestinationRuleView[] | undefined;
  const changed = () => {
    vsCache = undefined;
    specCache = undefined;
    drCache = undefined;
    for (const l of listeners) l();
  };
  const handlers = { onAdd: changed, onUpdate: changed, onDelete: changed, onError: options.onError };
  const ref = (plural: string) => ({
    group: GROUP,
    version: options.version ?? "v1",
    plural,
    namespace: options.namespace,
  });

  const vs = await watchCustomObjects<IstioObject>(kc, ref("virtualservices"), handlers);
  if (!vs.ok) return { ok: false, error: `virtualservices: ${vs.error.message}` };
  const dr = await watchCustomObjects<IstioObject>(kc, ref("destinationrules"), handlers);
  if (!dr.ok) {
    await vs.value.stop();
    return { ok: false, error: `destinationrules: ${dr.error.message}` };
  }
  const watches: ObjectWatch<IstioObject>[] = [vs.value, dr.value];
  return {
    ok: true,
    value: {
      virtualServices() {
        specCache ??= this.namespacedVirtualServices().map((v) => v.spec);
        return specCache;
      },
      namespacedVirtualServices() {
        vsCache ??= vs.value
          .list()
          .sort(byName)
          .map((o) => ({
            namespace: o.metadata.namespace ?? "",
            name: o.metadata.name,
            spec: (o.spec ?? {}) as VirtualServiceSpec,
          }));
        return vsCache;
      },
      destinationRules() {
        drCache ??= dr.value.list().sort(byName).map(ruleView);
        return drCache;
      },
      onChange(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async close() {
        listeners.clear();
        await Promise.all(watches.map((w) => w.stop()));
      },
    },
  };
}
