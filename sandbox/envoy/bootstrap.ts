/**
 * The Envoy bootstrap of a client sidecar as istiod and istio-agent configure it, reduced to one
 * outbound HTTP listener: node metadata as Istio sets it, the meshcanary Wasm filter delivered by
 * ECDS under the name Istio gives a WasmPlugin (`<ns>.<name>`, runtime V8, configuration as a JSON
 * StringValue, no vm_id), then the router; routes (RDS), clusters (CDS) and the filter (ECDS) come
 * from files in a watched directory so a change reaches the running Envoy without a restart.
 */
import type { Json } from "./istio-xds.js";

/** The WasmPlugin's failStrategy as Envoy's failure_policy. */
export type EnvoyFailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

/** The Wasm filter as Istio renders a WasmPlugin (contract §10). */
export interface WasmFilterSpec {
  /** `<namespace>.<name>` of the WasmPlugin. */
  name: string;
  wasmPath: string;
  /** pluginConfig as compact JSON ("" = none). */
  pluginConfig: string;
  /** vmConfig.env (INLINE values). */
  env?: Record<string, string>;
  failurePolicy: EnvoyFailurePolicy;
  /** WasmPlugin.pluginName → root_id; Istio leaves it empty by default. */
  rootId?: string;
}

/** The pod the sidecar belongs to. */
export interface SidecarNode {
  pod: string;
  namespace: string;
  workload: string;
  labels?: Record<string, string>;
}

export interface BootstrapOptions {
  node: SidecarNode;
  /** Directory watched for cds.json / rds.json / ecds.json moves. */
  xdsDir: string;
  /** Outbound listener port on 127.0.0.1 (0 = any). */
  port: number;
  /** Route configuration name (Istio: the service port, e.g. "9080"). */
  routeConfigName: string;
  /** Without a filter: the baseline Envoy of the overhead benchmark. */
  withFilter: boolean;
}

export const WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";

function pathSource(dir: string, file: string): Json {
  return {
    path_config_source: { path: `${dir}/${file}`, watched_directory: { path: dir } },
    resource_api_version: "V3",
  };
}

/** The node block: id and metadata as istio-agent writes them for a Kubernetes pod. */
export function nodeOf(n: SidecarNode): Json {
  return {
    id: `sidecar~127.0.0.1~${n.pod}.${n.namespace}~${n.namespace}.svc.cluster.local`,
    cluster: `${n.workload}.${n.namespace}`,
    metadata: {
      NAME: n.pod,
      NAMESPACE: n.namespace,
      WORKLOAD_NAME: n.workload,
      CLUSTER_ID: "Kubernetes",
      MESH_ID: "cluster.local",
      LABELS: n.labels ?? { app: n.workload },
      SERVICE_ACCOUNT: "default",
    },
  };
}

/** The Wasm HTTP filter's typed config (what ECDS delivers). */
export function wasmFilterConfig(spec: WasmFilterSpec): Json {
  const env = spec.env ?? {};
  return {
    "@type": WASM_TYPE,
    config: {
      name: spec.name,
      root_id: spec.rootId ?? "",
      vm_config: {
        runtime: "envoy.wasm.runtime.v8",
        code: { local: { filename: spec.wasmPath } },
        ...(Object.keys(env).length > 0 ? { environment_variables: { key_values: env } } : {}),
      },
      configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: spec.pluginConfig },
      failure_policy: spec.failurePolicy,
    },
  };
}

/** An xDS file's content: a DiscoveryResponse with its version. */
export function discoveryResponse(version: number, typeUrl: string, resources: Json[]): Json {
  return {
    version_info: String(version),
    type_url: typeUrl,
    resources: resources.map((r) => ({ "@type": typeUrl, ...r })),
  };
}

/** Envoy's router, the last HTTP filter of every chain. */
export const ROUTER_FILTER: Json = {
  name: "envoy.filters.http.router",
  typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" },
};

/** A listener on 127.0.0.1 with one HTTP connection manager; `routing` is its rds or route_config. */
export function httpListener(
  name: string,
  port: number,
  routing: Json,
  httpFilters: Json[],
  extra: Json = {},
): Json {
  return {
    name,
    address: { socket_address: { address: "127.0.0.1", port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type":
                "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              stat_prefix: name,
              ...routing,
              http_filters: httpFilters,
              ...extra,
            },
          },
        ],
      },
    ],
  };
}

export function bootstrap(opts: BootstrapOptions): Json {
  const filters: Json[] = [];
  if (opts.withFilter) {
    filters.push({
      name: "meshcanary",
      config_discovery: { config_source: pathSource(opts.xdsDir, "ecds.json"), type_urls: [WASM_TYPE] },
    });
  }
  filters.push(ROUTER_FILTER);
  const name = `0.0.0.0_${opts.routeConfigName}`;
  return {
    node: nodeOf(opts.node),
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    dynamic_resources: { cds_config: pathSource(opts.xdsDir, "cds.json") },
    static_resources: {
      listeners: [
        httpListener(
          name,
          opts.port,
          {
            rds: {
              route_config_name: opts.routeConfigName,
              config_source: pathSource(opts.xdsDir, "rds.json"),
            },
          },
          filters,
          // Istio: outbound sidecars do not trust x-forwarded-for, no idle stream timeout.
          {
            stat_prefix: `outbound_${name}`,
            codec_type: "AUTO",
            use_remote_address: false,
            stream_idle_timeout: "0s",
          },
        ),
      ],
    },
    // The Istio overload limit: without one Envoy warns at start (not per request).
    overload_manager: {
      resource_monitors: [
        {
          name: "envoy.resource_monitors.global_downstream_max_connections",
          typed_config: {
            "@type":
              "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
            max_active_downstream_connections: 2147483647,
          },
        },
      ],
    },
  };
}
