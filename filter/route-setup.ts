// Readies a validated routing table (plugin configuration or Directive) before any request is
// decided on it: tallies bound, Envoy counters defined, header names and values encoded once, and
// each token-checking route's own pin secret loaded. The request path then only compares bytes.

import { RoutingTable } from "./config";
import { defineRouteCounters } from "./envoy-counters";
import { envVar } from "./host-io";
import { pinSecretEnvName } from "./pin-secret";
import { bindTable } from "./vm-tallies";

/** Prepares every route of `table` for the request path and on_log. */
export function prepareRoutes(table: RoutingTable): void {
  bindTable(table);
  defineRouteCounters(table);
  const routes = table.routes;
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i];
    route.variantValues = [];
    for (let v = 0; v < route.variants.length; v++) route.variantValues.push(String.UTF8.encode(route.variants[v]));
    route.markerValue = String.UTF8.encode(route.marker);
    route.pinHeaderKey = String.UTF8.encode(route.pinHeader);
    route.stickyHeaderKey = String.UTF8.encode(route.stickyHeader);
    route.metricHeaderKeys = [];
    for (let m = 0; m < route.metricHeaders.length; m++) {
      route.metricHeaderKeys.push(String.UTF8.encode(route.metricHeaders[m]));
    }
  }
  loadRouteSecrets(table);
}

/** Each token-checking route's own key from its Canary's variable (filter/pin-secret.ts), if set. */
export function loadRouteSecrets(table: RoutingTable): void {
  for (let i = 0; i < table.routes.length; i++) {
    const route = table.routes[i];
    if (!route.requireToken) continue;
    const secret = envVar(pinSecretEnvName(route.canary));
    route.pinSecret = secret != null ? Uint8Array.wrap(String.UTF8.encode(secret)) : new Uint8Array(0);
  }
}
