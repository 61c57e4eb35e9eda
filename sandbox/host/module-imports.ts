// The import object a plugin module is instantiated with: the (guarded) `env` functions, the WASI
// functions under every WASI module name, and the memory and table the module itself imports, its
// memory capped as Envoy's V8 caps it. Separate from the VM, which supplies the functions and
// keeps the memory, because what to import follows from the module's import section alone.
import type { AnyFn } from "./host-call-guard.js";
import { WASI_MODULES } from "./import-table.js";
import { MAX_MEMORY_PAGES } from "./memory-cap.js";
import type { ModuleInfo } from "./wasm-binary.js";

/** The imports, and the memory among them when the module imports its memory instead of exporting it. */
export interface InstanceImports {
  imports: WebAssembly.Imports;
  importedMemory?: WebAssembly.Memory;
}

export function instanceImports(
  info: ModuleInfo,
  env: Record<string, AnyFn>,
  wasi: Record<string, AnyFn>,
): InstanceImports {
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = { env };
  let importedMemory: WebAssembly.Memory | undefined;
  for (const m of WASI_MODULES) imports[m] = wasi;
  for (const imp of info.imports) {
    if (imp.kind === "memory") {
      // Envoy's 1 GiB cap (memory-cap.ts); an import asking for more than that at start fails anyway.
      const max =
        imp.limits.min <= MAX_MEMORY_PAGES
          ? Math.min(imp.limits.max ?? MAX_MEMORY_PAGES, MAX_MEMORY_PAGES)
          : imp.limits.max;
      importedMemory = new WebAssembly.Memory({ initial: imp.limits.min, maximum: max });
      imports[imp.module] = { ...imports[imp.module], [imp.name]: importedMemory };
    } else if (imp.kind === "table") {
      const table = new WebAssembly.Table({
        element: "anyfunc",
        initial: imp.limits.min,
        maximum: imp.limits.max,
      });
      imports[imp.module] = { ...imports[imp.module], [imp.name]: table };
    }
  }
  return { imports, importedMemory };
}
