// The `env` host functions for HTTP and gRPC callouts (host contract §1.3).
import { WasmResult } from "./abi.js";
import { parseGrpcTarget } from "./grpc.js";
import { decodePairs } from "./pairs.js";
import type { HostFn, Vm } from "./vm.js";

const R = WasmResult;

/** The callout functions for one VM. */
export function calloutFunctions(vm: Vm): Record<string, HostFn> {
  const m = () => vm.mem;
  const { env } = vm;

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
  return {
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
  };
}
