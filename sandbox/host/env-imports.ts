// The `env` host functions (host contract §1.3) acting on a VM's current context: logging, time,
// properties and stream control here; maps, callouts and shared state in their own files.
import { LogLevel, StreamType, WasmResult } from "./abi.js";
import { calloutFunctions } from "./env-callouts.js";
import { mapFunctions } from "./env-maps.js";
import { sharedFunctions } from "./env-shared.js";
import { decodePairs } from "./pairs.js";
import { getProperty } from "./properties.js";
import type { HostFn, Vm } from "./vm.js";

const R = WasmResult;

/** Builds the `env` import functions for one VM. */
export function envFunctions(vm: Vm): Record<string, HostFn> {
  return {
    ...coreFunctions(vm),
    ...mapFunctions(vm),
    ...calloutFunctions(vm),
    ...sharedFunctions(vm),
  };
}

function coreFunctions(vm: Vm): Record<string, HostFn> {
  const m = () => vm.mem;
  const { env } = vm;

  return {
    proxy_log: (level: number, ptr: number, size: number) => {
      const msg = m().string(ptr, size);
      if (msg === undefined) return R.InvalidMemoryAccess;
      if (level >>> 0 > LogLevel.critical) return R.BadArgument;
      env.log(level, vm.worker, `wasm log${env.logPrefix}: ${msg}`);
      return R.Ok;
    },

    proxy_get_log_level: (out: number) => (m().writeU32(out, LogLevel.info) ? R.Ok : R.InvalidMemoryAccess),

    proxy_get_current_time_nanoseconds: (out: number) =>
      m().writeU64(out, env.clock.realtimeNs()) ? R.Ok : R.InvalidMemoryAccess,

    proxy_set_tick_period_milliseconds: (period: number) => {
      const root = vm.root();
      if (!root) return R.BadArgument;
      env.timers.set(vm.worker, root.id, period >>> 0);
      return R.Ok;
    },

    proxy_get_property: (pp: number, ps: number, valOut: number, sizeOut: number) => {
      const path = m().string(pp, ps);
      if (path === undefined) return R.InvalidMemoryAccess;
      const v = getProperty(path, env.props, vm.stream());
      return typeof v === "number" ? v : m().returnBytes(v, valOut, sizeOut);
    },

    proxy_set_property: (pp: number, ps: number, vp: number, vs: number) => {
      const path = m().string(pp, ps);
      const value = m().view(vp, vs);
      if (path === undefined || value === undefined) return R.InvalidMemoryAccess;
      const s = vm.stream();
      if (!s) return R.NotFound;
      s.filterState.set(path.endsWith("\0") ? path.slice(0, -1) : path, value.slice());
      return R.Ok;
    },

    proxy_continue_stream: (type: number) => {
      if (type >>> 0 > StreamType.Upstream) return R.BadArgument;
      if (type === StreamType.Upstream) return R.Unimplemented;
      const s = vm.stream();
      if (s) s.continueRequested = true;
      return R.Ok;
    },

    proxy_close_stream: (type: number) => {
      if (type >>> 0 > StreamType.Upstream) return R.BadArgument;
      const s = vm.stream();
      if (s) s.closeRequested = true;
      return R.Ok;
    },

    proxy_send_local_response: (
      status: number,
      dp: number,
      dl: number,
      bp: number,
      bl: number,
      hp: number,
      hl: number,
      grpcStatus: number,
    ) => {
      const details = m().string(dp, dl);
      const body = m().view(bp, bl);
      const headers = m().view(hp, hl);
      if (details === undefined || !body || !headers) return R.InvalidMemoryAccess;
      const s = vm.stream();
      if (!s) return R.Ok;
      s.localReply = {
        status: status >>> 0,
        details: details.replace(/ /g, "_"),
        body: body.slice(),
        headers: decodePairs(headers),
        grpcStatus: grpcStatus >= 0 && grpcStatus <= 16 ? grpcStatus : undefined,
      };
      return R.Ok;
    },

    proxy_set_effective_context: (id: number) => {
      if (!vm.contexts.has(id >>> 0)) return R.BadArgument;
      vm.effectiveId = id >>> 0;
      return R.Ok;
    },

    proxy_done: () => {
      const c = vm.context();
      if (c?.kind !== "root" || !c.pendingDone) return R.NotFound;
      vm.finishPendingDone(c);
      return R.Ok;
    },

    proxy_call_foreign_function: (
      np: number,
      nl: number,
      _ap: number,
      _al: number,
      _ro: number,
      _rs: number,
    ) => {
      const name = m().string(np, nl);
      if (name === undefined) return R.InvalidMemoryAccess;
      // Envoy ≥1.33 registers clear_route_cache (no result); the host re-routes on every
      // request-header change anyway. Other Envoy foreign functions are not modelled.
      return name === "clear_route_cache" ? R.Ok : R.NotFound;
    },

    pthread_equal: (a: number, b: number) => (a === b ? 1 : 0),
    emscripten_notify_memory_growth: () => undefined,
    envoy_resolve_dns: () => R.NotFound,
  };
}
