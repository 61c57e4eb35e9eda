// The `env` host functions for shared data, shared queues and metrics (host contract §1.3).
import { WasmResult } from "./abi.js";
import type { HostFn, Vm } from "./vm.js";

const R = WasmResult;

/** The shared-data, queue and metric functions for one VM. */
export function sharedFunctions(vm: Vm): Record<string, HostFn> {
  const m = () => vm.mem;
  const { env } = vm;

  return {
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
  };
}
