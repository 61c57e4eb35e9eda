// The controller's Directive in this VM: validated like plugin configuration, applied when newer,
// shared with sibling workers through shared data (filter/shared-directive.ts) and picked up from
// there. Once one is applied its routing table wins over plugin configuration, and its report
// interval (if set) over the configured one. A Directive that fails validation changes nothing.

import { DEFAULT_INTERVAL_MS, FilterConfig, RoutingTable } from "./config";
import { tableFromDirective } from "./config-table";
import { LOG_DEBUG, LOG_INFO, LOG_WARN, OK, getShared, log, sharedCas } from "./host-io";
import { decodeDirective, lastDecodeError } from "./report";
import { prepareRoutes } from "./route-setup";
import {
  DIRECTIVE_CHANGED_KEY,
  DIRECTIVE_KEY,
  DIRECTIVE_VERSION_KEY,
  storeDirective,
  storedBytes,
  storedVersion,
} from "./shared-directive";
import { countFilterEvent, setRouted } from "./vm-tallies";

/** Report interval bounds (docs/filter-config.md `controller.intervalMs`), also for Directive overrides. */
const MIN_INTERVAL_MS: u32 = 100;
const MAX_INTERVAL_MS: u32 = 60000;

const DIRECTIVE_CHANGED_KEY_BYTES = String.UTF8.encode(DIRECTIVE_CHANGED_KEY);

/** The controller's routing table once a Directive arrived (it then wins over plugin configuration). */
let directiveTable: RoutingTable | null = null;
/** Report interval from the applied Directive (0 = the configured one). */
let directiveIntervalMs: u32 = 0;
/** cas of the shared Directive change marker last looked at (skip reading an unchanged version). */
let directiveCas: u32 = 0;

/** Whether a Directive has been applied in this VM. */
export function hasDirective(): bool {
  return directiveTable != null;
}

/** The routing table requests are decided on: the Directive's, else `cfg`'s. */
// Inlined: runs per request, and a call would add a GC shadow-stack frame.
@inline
export function routingTable(cfg: FilterConfig): RoutingTable {
  return directiveTable != null ? directiveTable! : cfg.table;
}

/** The applied Directive's version (0 = none). */
export function appliedVersion(): u64 {
  return directiveTable != null ? directiveTable!.version : 0;
}

/** The tick/report period for a configuration: the Directive's override, else the configured one. */
export function intervalFor(cfg: FilterConfig): u32 {
  if (directiveIntervalMs > 0) return directiveIntervalMs;
  return cfg.controller != null ? cfg.controller!.intervalMs : DEFAULT_INTERVAL_MS;
}

/** Applies the shared Directive if a sibling stored a newer one. */
export function syncDirective(): void {
  // The common case, nothing new, costs one host call and no malloc: the empty change marker's cas
  // is unchanged. Otherwise 8 bytes say whether the (large) Directive value is worth reading.
  const cas = sharedCas(DIRECTIVE_CHANGED_KEY_BYTES);
  if (cas < 0 || <u32>cas == directiveCas) return;
  const version = getShared(DIRECTIVE_VERSION_KEY);
  if (version.result != OK) return;
  directiveCas = <u32>cas;
  if (storedVersion(version.value) <= appliedVersion()) return;
  const v = getShared(DIRECTIVE_KEY);
  if (v.result != OK || storedVersion(v.value) <= appliedVersion()) return;
  acceptDirective(storedBytes(v.value), false);
}

/** Validates a Directive like plugin configuration; applies (and, from the stream, shares) a newer one. */
export function acceptDirective(bytes: ArrayBuffer, fromStream: bool): void {
  const d = decodeDirective(bytes);
  if (d == null) {
    rejectDirective("undecodable: " + lastDecodeError());
    return;
  }
  const result = tableFromDirective(d);
  if (result.table == null) {
    rejectDirective(result.errors.join("; "));
    return;
  }
  if (result.dropped > 0) {
    // The valid routes still apply: one bad route must not freeze every other canary's weights.
    countFilterEvent("directive_routes_rejected", <u64>result.dropped);
    log(LOG_WARN, "meshcanary: directive routes left out: " + result.errors.join("; "));
  }
  // Counted by the worker the stream delivered it to, once per proxy (its siblings apply the same).
  if (result.ignoredSlow > 0 && fromStream) {
    countFilterEvent("slow_thresholds_ignored", <u64>result.ignoredSlow);
    log(LOG_WARN, "meshcanary: directive slow thresholds left out: " + result.ignored.join("; "));
  }
  if (d.version <= appliedVersion()) {
    log(LOG_DEBUG, "meshcanary: directive version " + d.version.toString() + " is not newer; ignored");
    return;
  }
  if (fromStream) storeDirective(d.version, bytes);
  const table = result.table!;
  prepareRoutes(table);
  directiveTable = table;
  setRouted(table);
  const ms = d.reportIntervalMs;
  directiveIntervalMs = ms == 0 ? 0 : ms < MIN_INTERVAL_MS ? MIN_INTERVAL_MS : ms > MAX_INTERVAL_MS ? MAX_INTERVAL_MS : ms;
  log(LOG_INFO, "meshcanary: applied directive version " + d.version.toString() + " (" + table.routes.length.toString() + " route(s))");
}

function rejectDirective(why: string): void {
  countFilterEvent("directive_rejected", 1);
  log(LOG_WARN, "meshcanary: directive rejected: " + why);
}
