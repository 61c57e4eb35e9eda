// Which host calls a guest may make while it runs outside any proxy context (its start section,
// _initialize/main, a host-initiated malloc), and the wrapper that enforces this on every import.
// Separate from the VM because it is Envoy's restricted_callback rule, not VM state handling.
import type { HostFn } from "./vm.js";

/** Restriction while a guest call runs outside any proxy context. */
export enum Restriction {
  None = 0,
  StartSection = 1,
  Initialize = 2,
  Malloc = 3,
}

const INITIALIZE_ALLOWED = new Set([
  "proxy_log",
  "fd_write",
  "args_sizes_get",
  "args_get",
  "environ_sizes_get",
  "environ_get",
  "fd_prestat_get",
  "fd_prestat_dir_name",
  "clock_time_get",
  "random_get",
  "fd_fdstat_get",
  "fd_fdstat_set_flags",
  "poll_oneoff",
  "sched_yield",
]);
const MALLOC_ALLOWED = new Set(["proxy_log", "fd_write", "clock_time_get", "poll_oneoff"]);

/** A guest export or a wrapped import: untyped at the wasm boundary. */
// biome-ignore lint/suspicious/noExplicitAny: wasm exports/imports are untyped at this boundary
export type AnyFn = (...args: any[]) => any;

/**
 * Wraps host functions with the restricted-callback check (reading `vm.restriction` at each call)
 * and the optional call observer, without per-call allocation.
 */
export function guardHostFunctions(
  fns: Record<string, HostFn>,
  vm: { readonly restriction: Restriction },
  observe: ((name: string) => void) | undefined,
): Record<string, AnyFn> {
  const out: Record<string, AnyFn> = {};
  for (const [name, fn] of Object.entries(fns)) {
    const f = fn as AnyFn;
    out[name] = (a, b, c, d, e, g, h, i, j, k, l, m) => {
      observe?.(name);
      if (vm.restriction !== Restriction.None) checkRestriction(vm.restriction, name);
      return f(a, b, c, d, e, g, h, i, j, k, l, m);
    };
  }
  return out;
}

function checkRestriction(restriction: Restriction, name: string): void {
  const allowed =
    restriction === Restriction.Initialize
      ? INITIALIZE_ALLOWED.has(name)
      : restriction === Restriction.Malloc
        ? MALLOC_ALLOWED.has(name)
        : false;
  if (!allowed) throw new Error(`restricted_callback: ${name} is not allowed here`);
}
