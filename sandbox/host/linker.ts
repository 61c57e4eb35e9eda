// Envoy's load-time checks (cpp-host load/link/getFunctions): ABI marker, every import
// present with the exact signature, looked-up exports with the right signature.
import type { AbiVersion } from "./abi.js";
import { EXPORT_SIGNATURES, expectedImport } from "./import-table.js";
import { type ImportDesc, type ModuleInfo, sameFuncType } from "./wasm-binary.js";

/** Detects the ABI from the exported marker, or returns an Envoy-worded error. */
export function detectAbi(info: ModuleInfo): { abi: AbiVersion } | { error: string } {
  const names = new Set(info.exports.map((e) => e.name));
  if (names.has("proxy_abi_version_0_2_1")) return { abi: "0.2.1" };
  if (names.has("proxy_abi_version_0_2_0")) return { abi: "0.2.0" };
  return { error: "Missing or unknown Proxy-Wasm ABI version" };
}

/** Returns the first link error in import order, as Envoy words it, or undefined. */
export function checkImports(abi: AbiVersion, imports: ImportDesc[]): string | undefined {
  for (const imp of imports) {
    const where = `${imp.module}.${imp.name}`;
    if (imp.kind === "memory" || imp.kind === "table") continue;
    if (imp.kind !== "function") return `Failed to load Wasm module due to a missing import: ${where}`;
    const expected = expectedImport(abi, imp.module, imp.name);
    if (!expected) return `Failed to load Wasm module due to a missing import: ${where}`;
    if (!sameFuncType(expected, imp.type)) {
      return `Failed to load Wasm module due to an import type mismatch: ${where}`;
    }
  }
  return undefined;
}

/** Checks the exports Envoy looks up, and that an allocator exists. */
export function checkExports(info: ModuleInfo): string | undefined {
  for (const exp of info.exports) {
    const expected = Object.hasOwn(EXPORT_SIGNATURES, exp.name) ? EXPORT_SIGNATURES[exp.name] : undefined;
    if (!expected) continue;
    if (exp.kind !== "function" || !exp.type || !sameFuncType(expected, exp.type)) {
      return `Bad function signature for: ${exp.name}`;
    }
  }
  const names = new Set(info.exports.map((e) => e.name));
  if (!names.has("malloc") && !names.has("proxy_on_memory_allocate")) {
    return "Wasm module is missing malloc function";
  }
  return undefined;
}
