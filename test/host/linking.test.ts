import { describe, expect, it } from "vitest";
import { HostLoadError, loadHost } from "../../sandbox/host/index.js";
import { minimal, wat } from "./wat.js";

async function loadError(module: Uint8Array): Promise<string> {
  try {
    const host = await loadHost({ module });
    await host.close();
  } catch (e) {
    expect(e).toBeInstanceOf(HostLoadError);
    return (e as Error).message;
  }
  throw new Error("load unexpectedly succeeded");
}

describe("strict linking (contract §1.1, §1.5)", () => {
  it.each([
    ['(import "env" "abort" (func (param i32 i32 i32 i32)))', "missing import: env.abort"],
    ['(import "env" "seed" (func (result f64)))', "missing import: env.seed"],
    [
      '(import "env" "proxy_clear_route_cache" (func (result i32)))',
      "missing import: env.proxy_clear_route_cache",
    ],
    [
      '(import "env" "proxy_get_log_level" (func (param i32) (result i32)))',
      "missing import: env.proxy_get_log_level",
    ],
    [
      '(import "wasi_snapshot_preview1" "path_unlink_file" (func (param i32 i32 i32) (result i32)))',
      "missing import: wasi_snapshot_preview1.path_unlink_file",
    ],
    ['(import "env" "g" (global i32))', "missing import: env.g"],
    [
      '(import "env" "proxy_log" (func (param i32 i32) (result i32)))',
      "an import type mismatch: env.proxy_log",
    ],
    [
      '(import "env" "proxy_increment_metric" (func (param i32 i32) (result i32)))',
      "an import type mismatch: env.proxy_increment_metric",
    ],
  ])("rejects %s", async (imp, expected) => {
    expect(await loadError(minimal("", imp))).toBe(
      `Failed to load Wasm module due to ${expected.startsWith("missing") ? "a " : ""}${expected}`,
    );
  });

  it("accepts Envoy's functions under both WASI module names", async () => {
    const host = await loadHost({
      module: minimal(
        "",
        `(import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
         (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
         (import "env" "proxy_continue_stream" (func (param i32) (result i32)))`,
      ),
    });
    expect(host.workerCount).toBe(1);
    await host.close();
  });

  it("accepts proxy_get_log_level only for ABI 0.2.1", async () => {
    const module = wat(`(module (import "env" "proxy_get_log_level" (func (param i32) (result i32)))
      (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) (i32.const 1024)))`);
    const host = await loadHost({ module });
    await host.close();
  });

  it("requires an ABI marker", async () => {
    const module = wat(
      `(module (memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) (i32.const 8)))`,
    );
    expect(await loadError(module)).toBe("Missing or unknown Proxy-Wasm ABI version");
  });

  it("requires malloc or proxy_on_memory_allocate", async () => {
    const module = wat(`(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_0")))`);
    expect(await loadError(module)).toBe("Wasm module is missing malloc function");
  });

  it("checks signatures of looked-up exports", async () => {
    const module = minimal(
      '(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))',
    );
    expect(await loadError(module)).toBe("Bad function signature for: proxy_on_request_headers");
  });

  it("fails the load when on_configure rejects the initial config", async () => {
    const module = minimal('(func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 0))');
    expect(await loadError(module)).toMatch(/on_configure returned 0/);
  });

  it("traps restricted host calls during _initialize", async () => {
    const module = minimal(
      `(func (export "_initialize") (drop (call $tick (i32.const 5))))`,
      '(import "env" "proxy_set_tick_period_milliseconds" (func $tick (param i32) (result i32)))',
    );
    expect(await loadError(module)).toMatch(/^Function: _initialize failed: .*restricted_callback/);
  });
});
