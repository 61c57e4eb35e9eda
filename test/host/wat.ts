// Compiles WAT fixtures with the wabt npm package (no native toolchain needed).
import { readFileSync } from "node:fs";
import wabtInit from "wabt";

const wabt = await wabtInit();

/** Compiles WAT text to a wasm binary. */
export function wat(text: string, name = "inline.wat"): Uint8Array {
  const mod = wabt.parseWat(name, text);
  try {
    mod.resolveNames();
    mod.validate();
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

/** Compiles test/fixtures/host/<name>.wat. */
export function fixture(name: string): Uint8Array {
  const path = new URL(`../fixtures/host/${name}.wat`, import.meta.url);
  return wat(readFileSync(path, "utf8"), `${name}.wat`);
}

/** A minimal module exporting the ABI marker, malloc and memory, plus extra fields. */
export function minimal(extra = "", imports = ""): Uint8Array {
  return wat(`(module ${imports}
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  ${extra})`);
}
