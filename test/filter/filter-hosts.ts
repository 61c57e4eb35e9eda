// Sandbox hosts running the release filter, for the suites that start several per file: the module
// is read once before the file's tests (building it is serialised across processes) and every host
// started is closed after them.
import { afterAll, beforeAll } from "vitest";
import { type HostOptions, loadHost, type ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterWasm } from "./filter-wasm.js";

/** Host options for the release filter: the module is always build/meshcanary.wasm. */
export type FilterHostOptions = Omit<HostOptions, "module">;

/** Starts a sandbox host on the release filter; manual timers unless `opts.timers` says otherwise. */
export type StartFilterHost = (opts: FilterHostOptions) => Promise<ProxyWasmHost>;

/**
 * Registers the file's beforeAll that reads build/meshcanary.wasm and its afterAll that closes every
 * host started; call it at the top level of a test file and start hosts from tests or hooks.
 */
export function filterHosts(): StartFilterHost {
  let wasm: Uint8Array | undefined;
  const hosts: ProxyWasmHost[] = [];
  beforeAll(() => {
    wasm = filterWasm();
  });
  afterAll(async () => {
    for (const h of hosts) await h.close();
  });
  return async (opts) => {
    if (!wasm) throw new Error("filterHosts: a host was started before the file's beforeAll read the filter");
    const host = await loadHost({ timers: "manual", ...opts, module: wasm });
    hosts.push(host);
    return host;
  };
}
