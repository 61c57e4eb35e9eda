// Compiles an AssemblyScript test entry (pure filter modules behind test exports) with asc and
// loads it through @assemblyscript/loader, with calls that pin string arguments for the call.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as loader from "@assemblyscript/loader";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

type Fn = (...args: unknown[]) => unknown;
type Arg = string | number | bigint;

/** A compiled test entry with JS-friendly calls. */
export interface TestWasm {
  /** Calls an export, converting string arguments to AssemblyScript strings. */
  call(name: string, ...args: Arg[]): unknown;
  /** Calls an export that returns a string. */
  str(name: string, ...args: Arg[]): string;
  /** Calls an export that returns a u32. */
  u32(name: string, ...args: Arg[]): number;
  /** The raw exports, for ArrayBuffer helpers. */
  readonly exports: Record<string, Fn> & loader.ASUtil;
}

/**
 * Compiles `entry` with the asconfig `config` (target "test") to `build/test/<out>` — one output
 * file per test file, so parallel test files never race on it — and loads it.
 */
export function loadTestWasm(entry: string, config: string, out: string): TestWasm {
  const file = resolve(root, "build/test", out);
  mkdirSync(dirname(file), { recursive: true });
  execFileSync(
    resolve(root, "node_modules/.bin/asc"),
    [entry, "--config", config, "--target", "test", "--outFile", file],
    { cwd: root, stdio: "pipe" },
  );
  const { exports } = loader.instantiateSync(readFileSync(file), {
    env: {
      abort(msg: number, at: number, line: number, col: number) {
        throw new Error(`abort: ${get(msg)} at ${get(at)}:${line}:${col}`);
      },
    },
  });
  const ex = exports as unknown as Record<string, Fn> & loader.ASUtil;
  const get = (p: number) => (p ? ex.__getString(p) : "");
  const call = (name: string, ...args: Arg[]) => {
    const fn = ex[name];
    if (typeof fn !== "function") throw new Error(`no export ${name}`);
    const pinned: number[] = [];
    const wasmArgs = args.map((a) => {
      if (typeof a !== "string") return a;
      const p = ex.__pin(ex.__newString(a));
      pinned.push(p);
      return p;
    });
    try {
      return fn(...wasmArgs);
    } finally {
      for (const p of pinned) ex.__unpin(p);
    }
  };
  return {
    call,
    str: (name, ...args) => get(call(name, ...args) as number),
    u32: (name, ...args) => (call(name, ...args) as number) >>> 0,
    exports: ex,
  };
}
