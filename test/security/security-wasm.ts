// SHA-256, HMAC and pin tokens behind filter/testing/security-exports.ts, compiled and loaded for tests.
import { loadTestWasm, type TestWasm } from "../helpers/as-test-wasm.js";

export type SecurityWasm = TestWasm;

/** Compiles to build/test/security/security-<tag>.wasm (one file per test file: no races) and loads it. */
export function loadSecurityWasm(tag: string): SecurityWasm {
  return loadTestWasm(
    "filter/testing/security-exports.ts",
    "filter/testing/asconfig.security.json",
    `security/security-${tag}.wasm`,
  );
}
