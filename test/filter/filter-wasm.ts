// Builds build/meshcanary.wasm with `make wasm` (a no-op when it is up to date) and returns its bytes.
// Test files run in parallel processes, so the build is serialised with a lock directory.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const lock = resolve(root, "build/.filter-wasm.lock");

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function acquire(): void {
  mkdirSync(resolve(root, "build"), { recursive: true });
  for (let i = 0; i < 600; i++) {
    try {
      mkdirSync(lock);
      return;
    } catch {
      // A lock older than 2 minutes belongs to a crashed run.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmdirSync(lock);
      } catch {}
      sleep(100);
    }
  }
  throw new Error(`could not acquire ${lock}`);
}

/** The release filter module, rebuilt first if any filter source changed. */
export function filterWasm(): Uint8Array<ArrayBuffer> {
  acquire();
  try {
    execFileSync("make", ["-s", "wasm"], { cwd: root, stdio: "pipe" });
    return new Uint8Array(readFileSync(resolve(root, "build/meshcanary.wasm")));
  } finally {
    rmdirSync(lock);
  }
}
