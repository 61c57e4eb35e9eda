// The `env` host functions (host contract §1.3) acting on a VM's current context.
import { LogLevel, MapType, StreamType, WasmResult } from "./abi.js";
import type { StreamContext } from "./contexts.js";
import type { HeaderMap } from "./header-map.js";
import { decodePairs, encodePairs } from "./pairs.js";
import { getProperty } from "./properties.js";
import { parseGrpcTarget } from "./grpc.js";
import type { HostFn, Vm } from "./vm.js";

const R = WasmResult;
type Access = "mutable" | "readonly" | undefined;

/** Which header map of the current context is reachable now, and how. */
function mapAccess(vm: Vm, type: number): { map?: HeaderMap; access: Access; inLog: boolean } {
  if (type >= 4 && type <= 7) {
    const map = vm.calloutMaps[type];
    return { map, access: map ? "readonly" : undefined, inLog: false };
  }
  const s = vm.stream();
  if (!s) return { access: undefined, inLog: false };
  const inLog = s.phase === "log";
  if (type === MapType.RequestHeaders) {
    if (!s.requestHeadersHeld) return { access: undefined, inLog };
    return { map: s.requestHeaders, access: inLog ? "readonly" : "mutable", inLog };
  }
  if (type === MapType.ResponseHeaders && s.responseHeaders && s.responseHeadersHeld) {
    return { map: s.responseHeaders, access: inLog ? "readonly" : "mutable", inLog };
  }
  if (type === MapType.RequestTrailers && s.requestTrailers && s.phase === "request_trailers") {
    return { map: s.requestTrailers, access: "mutable", inLog };
  }
  if (type === MapType.ResponseTrailers && s.responseTrailers) {
    if (s.phase === "response_trailers") return { map: s.responseTrailers, access: "mutable", inLog };
    if (inLog) return { map: s.responseTrailers, access: "readonly", inLog };
  }
  return { access: undefined, inLog };
}

function bufferOf(vm: Vm, type: number): Uint8Array | undefined {
  if (type === 6) return vm.env.vmConfig;
  if (type === 7) {
    const root = vm.context();
    return root?.kind === "root" && root.configuring ? root.pluginConfig : undefined;
  }
  if (vm.calloutBuffer?.type === type) return vm.calloutBuffer.bytes;
  const s = vm.stream();
  if (type === 0 && s?.phase === "request_body") return s.requestBody;
  if (type === 1 && s?.phase === "response_body") return s.responseBody;
  return undefined;
}

/** Envoy Buffer::copyFrom semantics for body buffers. */
function setBody(s: StreamContext, type: number, start: number, size: number, data: Uint8Array): number {
  const cur = type === 0 ? s.requestBody : s.responseBody;
  let next: Uint8Array;
  if (start === 0) {
    const rest = cur.subarray(Math.min(size, cur.length));
    next = new Uint8Array(data.length + rest.length);
    next.set(data);
    next.set(rest, data.length);
  } else if (start >= cur.length) {
    next = new Uint8Array(cur.length + data.length);
    next.set(cur);
    next.set(data, cur.length);
  } else {
    return R.BadArgument;
  }
  if (type === 0) s.requestBody = next;
  else s.responseBody = next;
  return R.Ok;
}

/** Builds the `env` import functions for one VM. */
export function envFunctions(vm: Vm): Record<string, HostFn> {
  const m = () => vm.mem;

  /**
   * The arguments grpc_call and grpc_stream share, read and checked in Envoy's order: memory, then
   * the target (ParseFailure for an unknown cluster), then the owning root context.
   */
  const grpcArgs = (
    sp: number,
    sl: number,
    np: number,
    nl: number,
    mp: number,
    ml: number,
    ip: number,
    il: number,
    tokenOut: number,
  ) => {
    const service = m().view(sp, sl)?.slice();
    const name = m().string(np, nl);
    const method = m().string(mp, ml);
    const initial = m().view(ip, il);
    if (!service || name === undefined || method === undefined || !initial) return R.InvalidMemoryAccess;
    if (!m().inBounds(tokenOut, 4)) return R.InvalidMemoryAccess;
    const target = parseGrpcTarget(service, env.clusters);
    const root = vm.root();
    if ("error" in target) return target.error;
    if (!root) return R.BadArgument;
    return {
      root: root.id,
      cluster: target.cluster,
      known: target.known,
      path: `/${name}/${method}`,
      metadata: decodePairs(initial),
    };
  };
  const { env } = vm;

  const mutateMap = (type: number, fn: (map: HeaderMap) => void): number => {
    const { map, access } = mapAccess(vm, type);
    if (!map || access !== "mutable") return R.BadArgument;
    fn(map);
    return R.Ok;
  };

  const keyValue = (kp: number, ks: number, vp: number, vs: number): [string, string] | undefined => {
    const k = m().string(kp, ks);
    const v = m().string(vp, vs);
    return k === undefined || v === undefined ? undefined : [k, v];
  };

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

    proxy_get_buffer_bytes: (type: number, start: number, max: number, dataOut: number, sizeOut: number) => {
      if (type >>> 0 > 8) return R.BadArgument;
      const buf = bufferOf(vm, type);
      if (!buf) return R.NotFound;
      const s = start >>> 0;
      const end = s + (max >>> 0);
      if (end > 0xffffffff) return R.BadArgument;
      return m().returnBytes(
        buf.subarray(Math.min(s, buf.length), Math.min(end, buf.length)),
        dataOut,
        sizeOut,
      );
    },

    proxy_get_buffer_status: (type: number, sizeOut: number, flagsOut: number) => {
      if (type >>> 0 > 8) return R.BadArgument;
      const buf = bufferOf(vm, type);
      if (!buf) return R.NotFound;
      return m().writeU32(sizeOut, buf.length) && m().writeU32(flagsOut, 0) ? R.Ok : R.InvalidMemoryAccess;
    },

    proxy_set_buffer_bytes: (type: number, start: number, size: number, dp: number, ds: number) => {
      if (type >>> 0 > 8) return R.BadArgument;
      const data = m().view(dp, ds);
      if (!data) return R.InvalidMemoryAccess;
      const s = vm.stream();
      if ((type !== 0 && type !== 1) || !s || !bufferOf(vm, type)) {
        return bufferOf(vm, type) ? R.BadArgument : R.NotFound;
      }
      return setBody(s, type, start >>> 0, size >>> 0, data.slice());
    },

    proxy_get_header_map_pairs: (type: number, dataOut: number, sizeOut: number) => {
      if (type >>> 0 > 7) return R.BadArgument;
      const { map } = mapAccess(vm, type);
      return m().returnBytes(map ? encodePairs(map.entries) : new Uint8Array(0), dataOut, sizeOut);
    },

    proxy_set_header_map_pairs: (type: number, dp: number, ds: number) => {
      const data = m().view(dp, ds);
      if (!data) return R.InvalidMemoryAccess;
      const pairs = decodePairs(data);
      return mutateMap(type, (map) => map.setAll(pairs));
    },

    proxy_get_header_map_size: (type: number, sizeOut: number) => {
      const { map, access } = mapAccess(vm, type);
      if (!map || access !== "mutable") return R.BadArgument;
      return m().writeU32(sizeOut, map.byteSize()) ? R.Ok : R.InvalidMemoryAccess;
    },

    proxy_get_header_map_value: (type: number, kp: number, ks: number, valOut: number, sizeOut: number) => {
      const key = m().string(kp, ks);
      if (key === undefined) return R.InvalidMemoryAccess;
      const { map, inLog } = mapAccess(vm, type);
      if (!map) return inLog ? R.NotFound : R.BadArgument;
      const v = map.get(key);
      return v === undefined ? R.NotFound : m().returnString(v, valOut, sizeOut);
    },

    proxy_add_header_map_value: (type: number, kp: number, ks: number, vp: number, vs: number) => {
      const kv = keyValue(kp, ks, vp, vs);
      return kv ? mutateMap(type, (map) => map.add(kv[0], kv[1])) : R.InvalidMemoryAccess;
    },

    proxy_replace_header_map_value: (type: number, kp: number, ks: number, vp: number, vs: number) => {
      const kv = keyValue(kp, ks, vp, vs);
      return kv ? mutateMap(type, (map) => map.replace(kv[0], kv[1])) : R.InvalidMemoryAccess;
    },

    proxy_remove_header_map_value: (type: number, kp: number, ks: number) => {
      const key = m().string(kp, ks);
      return key === undefined ? R.InvalidMemoryAccess : mutateMap(type, (map) => map.remove(key));
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

    proxy_http_call: (
      up: number,
      ul: number,
      hp: number,
      hl: number,
      bp: number,
      bl: number,
      _tp: number,
      _tl: number,
      timeout: number,
      tokenOut: number,
    ) => {
      const cluster = m().string(up, ul);
      const headers = m().view(hp, hl);
      const body = m().view(bp, bl);
      if (cluster === undefined || !headers || !body || !m().inBounds(tokenOut, 4))
        return R.InvalidMemoryAccess;
      const root = vm.root();
      if (!root) return R.BadArgument;
      const [res, token] = vm.http.call(root.id, cluster, decodePairs(headers), body.slice(), timeout);
      if (res === R.Ok) m().writeU32(tokenOut, token);
      return res;
    },

    proxy_grpc_call: (
      sp: number,
      sl: number,
      np: number,
      nl: number,
      mp: number,
      ml: number,
      ip: number,
      il: number,
      msgp: number,
      msgl: number,
      timeout: number,
      tokenOut: number,
    ) => {
      const msg = m().view(msgp, msgl);
      if (!msg) return R.InvalidMemoryAccess;
      const g = grpcArgs(sp, sl, np, nl, mp, ml, ip, il, tokenOut);
      if (typeof g === "number") return g;
      if (!g.known) return R.BadArgument;
      const [res, token] = vm.grpc.call(g.root, g.cluster, g.path, g.metadata, msg.slice(), timeout >>> 0);
      if (res === R.Ok) m().writeU32(tokenOut, token);
      return res;
    },

    proxy_grpc_stream: (
      sp: number,
      sl: number,
      np: number,
      nl: number,
      mp: number,
      ml: number,
      ip: number,
      il: number,
      tokenOut: number,
    ) => {
      const g = grpcArgs(sp, sl, np, nl, mp, ml, ip, il, tokenOut);
      if (typeof g === "number") return g;
      const [res, token] = g.known
        ? vm.grpc.stream(g.root, g.cluster, g.path, g.metadata)
        : vm.grpc.refusedStream(g.root);
      if (res === R.Ok) m().writeU32(tokenOut, token);
      return res;
    },

    proxy_grpc_send: (token: number, mp: number, ml: number, end: number) => {
      const msg = m().view(mp, ml);
      if (!msg) return R.InvalidMemoryAccess;
      return vm.grpc.send(token >>> 0, msg.slice(), end !== 0);
    },

    proxy_grpc_cancel: (token: number) => vm.grpc.cancel(token >>> 0),
    proxy_grpc_close: (token: number) => vm.grpc.close(token >>> 0),

    proxy_get_status: (codeOut: number, msgOut: number, sizeOut: number) => {
      const root = vm.root();
      if (!root) return R.NotFound;
      if (!m().writeU32(codeOut, root.status.code)) return R.InvalidMemoryAccess;
      return m().returnString(root.status.message, msgOut, sizeOut);
    },

    proxy_set_shared_data: (kp: number, ks: number, vp: number, vs: number, cas: number) => {
      const key = m().string(kp, ks);
      const value = m().view(vp, vs);
      if (key === undefined || !value) return R.InvalidMemoryAccess;
      return env.store.set(env.props.vmId, key, value, cas >>> 0);
    },

    proxy_get_shared_data: (kp: number, ks: number, valOut: number, sizeOut: number, casOut: number) => {
      const key = m().string(kp, ks);
      if (key === undefined) return R.InvalidMemoryAccess;
      const entry = env.store.get(env.props.vmId, key);
      if (!entry) return R.NotFound;
      if (!m().inBounds(casOut, 4)) return R.InvalidMemoryAccess;
      const res = m().returnBytes(entry.value, valOut, sizeOut);
      if (res === R.Ok) m().writeU32(casOut, entry.cas);
      return res;
    },

    proxy_register_shared_queue: (np: number, nl: number, tokenOut: number) => {
      const name = m().string(np, nl);
      if (name === undefined || !m().inBounds(tokenOut, 4)) return R.InvalidMemoryAccess;
      const root = vm.root();
      if (!root) return R.BadArgument;
      const token = env.store.registerQueue(env.props.vmId, name, {
        worker: vm.worker,
        rootContextId: root.id,
      });
      m().writeU32(tokenOut, token);
      return R.Ok;
    },

    proxy_resolve_shared_queue: (vp: number, vl: number, np: number, nl: number, tokenOut: number) => {
      const vmId = m().string(vp, vl);
      const name = m().string(np, nl);
      if (vmId === undefined || name === undefined || !m().inBounds(tokenOut, 4))
        return R.InvalidMemoryAccess;
      const token = env.store.resolveQueue(vmId || env.props.vmId, name);
      if (token === undefined) return R.NotFound;
      m().writeU32(tokenOut, token);
      return R.Ok;
    },

    proxy_enqueue_shared_queue: (token: number, dp: number, dl: number) => {
      const data = m().view(dp, dl);
      if (!data) return R.InvalidMemoryAccess;
      const receiver = env.store.enqueue(token >>> 0, data);
      if (!receiver) return R.NotFound;
      env.notifyQueue(receiver, token >>> 0);
      return R.Ok;
    },

    proxy_dequeue_shared_queue: (token: number, dataOut: number, sizeOut: number) => {
      const item = env.store.dequeue(token >>> 0);
      return typeof item === "number" ? item : m().returnBytes(item, dataOut, sizeOut);
    },

    proxy_define_metric: (type: number, np: number, nl: number, idOut: number) => {
      const name = m().string(np, nl);
      if (name === undefined || !m().inBounds(idOut, 4)) return R.InvalidMemoryAccess;
      const [res, id] = vm.metrics.define(type >>> 0, name);
      if (res === R.Ok) m().writeU32(idOut, id);
      return res;
    },

    proxy_increment_metric: (id: number, delta: bigint) => vm.metrics.increment(id >>> 0, delta),
    proxy_record_metric: (id: number, value: bigint) => vm.metrics.record(id >>> 0, value),

    proxy_get_metric: (id: number, out: number) => {
      if (!m().inBounds(out, 8)) return R.InvalidMemoryAccess;
      const [res, value] = vm.metrics.get(id >>> 0);
      if (res === R.Ok) m().writeU64(out, BigInt(Math.trunc(value)));
      return res;
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
