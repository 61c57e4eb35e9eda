// The pure filter modules behind filter/testing/exports.ts, compiled and loaded for tests.
import { loadTestWasm, type TestWasm } from "../helpers/as-test-wasm.js";

export type PureWasm = TestWasm;

/** Compiles to build/test/filter/pure-<tag>.wasm (a separate file per test file: no races) and loads it. */
export function loadPureWasm(tag: string): PureWasm {
  return loadTestWasm("filter/testing/exports.ts", "filter/testing/asconfig.json", `filter/pure-${tag}.wasm`);
}
