// The WASI subset Envoy provides (host contract §1.4), same functions under both WASI module names.
import { randomFillSync } from "node:crypto";
import { Errno, LogLevel } from "./abi.js";
import type { GuestMemory } from "./memory.js";

/** What WASI needs from the VM it runs in. */
export interface WasiEnv {
  memory(): GuestMemory;
  log(level: number, message: string): void;
  environ: Array<[string, string]>;
  realtimeNs(): bigint;
  monotonicNs(): bigint;
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder();
const FDSTAT_SIZE = 24;

type WasiFn = (...args: never[]) => number | undefined;

/** Builds the WASI import functions for one VM. */
export function wasiFunctions(env: WasiEnv): Record<string, WasiFn> {
  const environ = env.environ.map(([k, v]) => encoder.encode(`${k}=${v}\0`));
  return {
    fd_write: (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) =>
      fdWrite(env, fd, iovs, iovsLen, nwrittenPtr),
    fd_read: () => Errno.Nosys,
    fd_seek: () => {
      env.log(LogLevel.trace, "wasi_unstable fd_seek");
      return Errno.Success;
    },
    fd_close: () => {
      env.log(LogLevel.trace, "wasi_unstable fd_close");
      return Errno.Success;
    },
    fd_fdstat_get: (fd: number, statPtr: number) => {
      if (fd !== 1 && fd !== 2) return Errno.Badf;
      const stat = new Uint8Array(FDSTAT_SIZE);
      new DataView(stat.buffer).setBigUint64(8, 64n, true);
      return env.memory().writeBytes(statPtr, stat) ? Errno.Success : Errno.Inval;
    },
    environ_sizes_get: (countPtr: number, sizePtr: number) => {
      const mem = env.memory();
      const total = environ.reduce((n, e) => n + e.length, 0);
      return mem.writeU32(countPtr, environ.length) && mem.writeU32(sizePtr, total)
        ? Errno.Success
        : Errno.Inval;
    },
    environ_get: (ptrsPtr: number, bufPtr: number) => {
      const mem = env.memory();
      let at = bufPtr;
      for (let i = 0; i < environ.length; i++) {
        if (!mem.writeU32(ptrsPtr + 4 * i, at) || !mem.writeBytes(at, environ[i]!)) return Errno.Inval;
        at += environ[i]!.length;
      }
      return Errno.Success;
    },
    args_sizes_get: (countPtr: number, sizePtr: number) => {
      const mem = env.memory();
      return mem.writeU32(countPtr, 0) && mem.writeU32(sizePtr, 0) ? Errno.Success : Errno.Inval;
    },
    args_get: () => Errno.Success,
    clock_time_get: (id: number, _precision: bigint, outPtr: number) => {
      if (id !== 0 && id !== 1) return Errno.Notsup;
      const ns = id === 0 ? env.realtimeNs() : env.monotonicNs();
      return env.memory().writeU64(outPtr, ns) ? Errno.Success : Errno.Inval;
    },
    random_get: (ptr: number, len: number) => {
      if (len >>> 0 > 65536) return Errno.Inval;
      const view = env.memory().view(ptr, len);
      if (!view) return Errno.Inval;
      randomFillSync(view);
      return Errno.Success;
    },
    proc_exit: (_code: number) => {
      // Envoy only logs (at trace) and returns; the guest's next instruction decides.
      env.log(LogLevel.trace, "wasi_unstable proc_exit");
      return undefined;
    },
    path_open: () => Errno.Noent,
    fd_prestat_get: () => Errno.Badf,
    fd_prestat_dir_name: () => Errno.Nosys,
    sched_yield: () => Errno.Success,
    poll_oneoff: (_in: number, _out: number, _n: number, neventsPtr: number) =>
      env.memory().writeU32(neventsPtr, 0) ? Errno.Success : Errno.Inval,
    fd_fdstat_set_flags: () => Errno.Nosys,
  };
}

function fdWrite(env: WasiEnv, fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
  if (fd !== 1 && fd !== 2) return Errno.Badf;
  const mem = env.memory();
  const table = mem.view(iovs, iovsLen * 8);
  if (!table) return Errno.Inval;
  const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  let text = "";
  let written = 0;
  for (let i = 0; i < iovsLen; i++) {
    const chunk = mem.view(dv.getUint32(8 * i, true), dv.getUint32(8 * i + 4, true));
    if (!chunk) return Errno.Inval;
    text += utf8.decode(chunk);
    written += chunk.length;
  }
  if (!mem.writeU32(nwrittenPtr, written)) return Errno.Inval;
  env.log(fd === 1 ? LogLevel.info : LogLevel.error, text.endsWith("\n") ? text.slice(0, -1) : text);
  return Errno.Success;
}
