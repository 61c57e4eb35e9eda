/**
 * An inbound sidecar's routes as Istio pushes them to a pod: one virtual host for any authority
 * (domains "*") sending every request to the pod's own app through the `inbound|PORT||` cluster.
 * The sandbox runs it in front of a canary pod that receives a shadow's mirrored copies.
 */
import { type Json, type OutboundConfig, staticCluster } from "./istio-xds.js";

/** Routes and clusters of the inbound listener of a pod whose app listens at `app`. */
export function inboundConfig(
  routeConfigName: string,
  servicePort: number,
  app: { address: string; port: number },
): OutboundConfig {
  const cluster = `inbound|${servicePort}||`;
  const route: Json = { name: "default", match: { prefix: "/" }, route: { cluster, timeout: "0s" } };
  return {
    routeConfiguration: {
      name: routeConfigName,
      validate_clusters: false,
      virtual_hosts: [{ name: `inbound|http|${servicePort}`, domains: ["*"], routes: [route] }],
    },
    clusters: [staticCluster(cluster, [app])],
  };
}
