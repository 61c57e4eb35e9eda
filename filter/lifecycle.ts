// The context lifecycle: contexts created and deleted, plugin configuration read and validated,
// the per-root tick (flush tallies, pick up a sibling's Directive, report) and the controller
// stream's callbacks. A configuration that fails validation is refused and the last good one stays.
// Every host result code is handled; nothing here may trap.

import { PLUGIN_CONFIGURATION } from "./abi/enums";
import { proxy_get_buffer_bytes, proxy_set_tick_period_milliseconds } from "./abi/imports";
import { OUT_PTR, OUT_SIZE, resetOut, takeString } from "./abi/memory";
import { FilterConfig } from "./config";
import { parseConfig, pinSecretErrors } from "./config-json";
import { addRoot, addStream, deleteRoot, deleteStream, rootState, rootStateOrNew } from "./contexts";
import { acceptDirective, appliedVersion, hasDirective, intervalFor, syncDirective } from "./directive-apply";
import { definePinRejectionCounters } from "./envoy-counters";
import { LOG_ERROR, LOG_INFO, OK, envVar, log, nowMs } from "./host-io";
import { reporterClose, reporterReceive, reporterRootDeleted, reporterTick } from "./reporter";
import { loadRouteSecrets, prepareRoutes } from "./route-setup";
import { ensureState } from "./shared-tallies";
import { flushVmTallies, setRouted } from "./vm-tallies";

/** Delay of a reporting root's first tick, so a starting proxy connects at once. */
const FIRST_TICK_MS: u32 = 20;

/** The last configuration that validated in this VM; new root contexts start from it. */
let lastGood: FilterConfig = new FilterConfig();

/** A root context starts from the last good configuration; a stream gets a (pooled) state. */
@inline
export function onContextCreate(ctx: u32, parent: u32): void {
  if (parent == 0) addRoot(ctx, lastGood);
  else addStream(ctx, parent);
}

/** Nothing to do at VM start: everything the filter needs comes with the plugin configuration. */
export function onVmStart(): bool {
  return true;
}

/** Reads, validates and applies the plugin configuration; false (logged) refuses it. */
export function onConfigure(root: u32, size: u32): bool {
  let text = "";
  if (size > 0) {
    resetOut();
    const r = proxy_get_buffer_bytes(PLUGIN_CONFIGURATION, 0, size, OUT_PTR, OUT_SIZE);
    if (r != OK) {
      log(LOG_ERROR, "meshcanary: configuration rejected: cannot read plugin configuration (result " + r.toString() + ")");
      return false;
    }
    text = takeString();
  }
  const result = parseConfig(text);
  if (result.config == null) {
    for (let i = 0; i < result.errors.length; i++) {
      log(LOG_ERROR, "meshcanary: configuration rejected: " + result.errors[i]);
    }
    return false;
  }
  const cfg = result.config!;
  if (!configurePins(cfg)) return false;
  prepareRoutes(cfg.table);
  if (!hasDirective()) setRouted(cfg.table);
  lastGood = cfg;
  const state = rootStateOrNew(root, cfg);
  state.config = cfg;
  // Created now, before traffic, so workers racing to be first writer only race on an empty state.
  ensureState();
  // Every tick flushes this VM's tallies to shared data; the lease holder also reports. The first
  // tick comes early so a starting proxy fetches the controller's table within milliseconds (no
  // stream from on_configure: Envoy's throw-away canary VM runs it too, and would take the lease);
  // onTick then sets the configured interval.
  state.tickMs = cfg.controller != null ? FIRST_TICK_MS : intervalFor(cfg);
  proxy_set_tick_period_milliseconds(state.tickMs);
  log(LOG_INFO, "meshcanary: configured " + cfg.table.routes.length.toString() + " route(s)");
  return true;
}

/**
 * Reads the pin-token secret named by `pinSecretEnv` into `cfg` and defines the rejection counters.
 * False (logged) when a requireToken route has no secret to check tokens with.
 */
function configurePins(cfg: FilterConfig): bool {
  loadRouteSecrets(cfg.table);
  const secret = cfg.pinSecretEnv.length > 0 ? envVar(cfg.pinSecretEnv) : null;
  const errors = pinSecretErrors(cfg, secret);
  for (let i = 0; i < errors.length; i++) log(LOG_ERROR, "meshcanary: configuration rejected: " + errors[i]);
  if (errors.length > 0) return false;
  if (secret != null) cfg.pinSecret = Uint8Array.wrap(String.UTF8.encode(secret));
  definePinRejectionCounters();
  return true;
}

/** A finished stream's state goes back to the pool; a deleted root gives up its reporting. */
@inline
export function onDelete(ctx: u32): void {
  if (!deleteStream(ctx) && deleteRoot(ctx)) reporterRootDeleted(ctx);
}

/**
 * Per root, every interval: flush this VM's tallies into shared data, pick up a newer Directive a
 * sibling worker stored, and (if configured) take part in reporting.
 */
export function onTick(root: u32): void {
  const state = rootState(root);
  if (state == null) return;
  flushVmTallies();
  syncDirective();
  const interval = intervalFor(state.config);
  if (interval != state.tickMs) {
    state.tickMs = interval;
    proxy_set_tick_period_milliseconds(interval);
  }
  const controller = state.config.controller;
  if (controller != null) reporterTick(root, controller, interval, nowMs(), appliedVersion());
}

/** A message on the controller stream: a Directive. */
export function onGrpcReceive(_root: u32, token: u32, size: u32): void {
  const bytes = reporterReceive(token, size);
  if (bytes != null) acceptDirective(bytes, true);
}

/** The controller stream closed: the reporter schedules a reconnect. */
export function onGrpcClose(_root: u32, token: u32, status: u32): void {
  reporterClose(token, status, nowMs());
}
