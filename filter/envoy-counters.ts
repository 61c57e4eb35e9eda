// The Envoy counters the filter defines (Prometheus scrapes them from the proxy, so a dashboard
// needs no controller): per route variant `requests` and `failures`, and the refused pin tokens.
// Defining a metric is a host call, so ids are kept; route ids only for the applied table, so
// memory does not grow with every canary ever routed.

import { METRIC_COUNTER } from "./abi/enums";
import { proxy_define_metric, proxy_increment_metric } from "./abi/imports";
import { OUT_ID } from "./abi/memory";
import { RoutingTable } from "./config";
import { OK } from "./host-io";
import { PIN_REJECTION_REASONS, PinRejection, pinRejectionName } from "./pin-token";
import { countFilterEvent } from "./vm-tallies";

/** Envoy counter of refused pin tokens; `<it>__<reason>` counts one reason. */
const PIN_REJECTED_COUNTER = "meshcanary_pin_rejected";

/** Envoy metric ids by name, reused across reconfigurations. */
const metricIds = new Map<string, u32>();
/** The ids of the applied routes' counters only (rebuilt per table), so old canaries' names go. */
let routeMetricIds = new Map<string, u32>();

/**
 * Envoy counter name for (kind, canary, variant): `meshcanary_<kind>__<namespace>__<name>__<variant>`.
 * Envoy stores it as `wasmcustom.<that>`; Prometheus shows it as is, with `-` and `/` sanitised to
 * `_` (e.g. `meshcanary_requests__default__reviews__canary`). Double underscores separate the
 * fields because Kubernetes names cannot contain `_`.
 */
export function counterName(kind: string, canary: string, variant: string): string {
  return "meshcanary_" + kind + "__" + canary.replace("/", "__") + "__" + variant;
}

/** Adds one to counter `id` (0: the host refused to define it). */
export function incrementCounter(id: u32): void {
  if (id != 0) proxy_increment_metric(id, 1);
}

/** Defines Envoy counter `name`; its id, or 0 if the host refused. */
function defineCounter(name: string): u32 {
  const b = String.UTF8.encode(name);
  store<u32>(OUT_ID, 0);
  return proxy_define_metric(METRIC_COUNTER, changetype<usize>(b), <usize>b.byteLength, OUT_ID) == OK ? load<u32>(OUT_ID) : 0;
}

/** Envoy counter id for `name`, defined once per VM; 0 if the host refused. */
function counterId(name: string): u32 {
  if (metricIds.has(name)) return metricIds.get(name);
  const id = defineCounter(name);
  if (id != 0) metricIds.set(name, id);
  return id;
}

/** Envoy counter id of a route counter, defined unless `previous` (the last table's ids) has it. */
function routeCounterId(name: string, previous: Map<string, u32>, ids: Map<string, u32>): u32 {
  const id = previous.has(name) ? previous.get(name) : defineCounter(name);
  if (id != 0) ids.set(name, id);
  return id;
}

/**
 * Defines each route variant's `requests` and `failures` counters into the route. Only this
 * table's ids are kept (Envoy returns the same id when a name is defined again).
 */
export function defineRouteCounters(table: RoutingTable): void {
  const routes = table.routes;
  const previous = routeMetricIds;
  const ids = new Map<string, u32>();
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i];
    route.requestCounters = [];
    route.failureCounters = [];
    for (let v = 0; v < route.variants.length; v++) {
      route.requestCounters.push(routeCounterId(counterName("requests", route.canary, route.variants[v]), previous, ids));
      route.failureCounters.push(routeCounterId(counterName("failures", route.canary, route.variants[v]), previous, ids));
    }
  }
  routeMetricIds = ids;
}

/** Defines the pin-rejection counters before traffic, so they show (at 0) before the first refusal. */
export function definePinRejectionCounters(): void {
  counterId(PIN_REJECTED_COUNTER);
  for (let r = 1; r <= PIN_REJECTION_REASONS; r++) counterId(PIN_REJECTED_COUNTER + "__" + pinRejectionName(<PinRejection>r));
}

/** Counts a refused pin token: Envoy counters (total and per reason) and the report's filter counters. */
export function countPinRejection(r: PinRejection): void {
  const reason = pinRejectionName(r);
  incrementCounter(counterId(PIN_REJECTED_COUNTER));
  incrementCounter(counterId(PIN_REJECTED_COUNTER + "__" + reason));
  countFilterEvent("pin_token_rejected_" + reason, 1);
}
