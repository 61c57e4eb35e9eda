// The `env` host functions on header maps and body buffers (host contract §1.3), with Envoy's rules
// for which map or buffer the current context may read or change.
import { MapType, WasmResult } from "./abi.js";
import type { StreamContext } from "./contexts.js";
import type { HeaderMap } from "./header-map.js";
import { decodePairs, encodePairs } from "./pairs.js";
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

/** The header-map and buffer functions for one VM. */
export function mapFunctions(vm: Vm): Record<string, HostFn> {
  const m = () => vm.mem;

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
  };
}
