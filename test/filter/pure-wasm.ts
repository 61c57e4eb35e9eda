// Compiles filter/testing/exports.ts (the pure filter modules behind a test entry) with asc and
// loads it through @assemblyscript/loader, with small wrappers that pin string arguments.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as loader from "@assemblyscript/loader";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

type Fn = (...args: unknown[]) => unknown;

/** The pure-module test wasm with JS-friendly calls. */
export interface PureWasm {
  /** Calls an export, converting string arguments to AssemblyScript strings. */
  call(name: string, ...args: Array<string | number | bigint>): unknown;
  /** Calls an export that returns a string. */
  str(name: string, ...args: Array<string | number | bigint>): string;
  /** Calls an export that returns a u32. */
  u32(name: string, ...args: Array<string | number | bigint>): number;
}

/** Compiles to build/test/filter/pure-<tag>.wasm (a separate file per test file: no races) and loads it. */
export function loadPureWasm(tag: string): PureWasm {
  const out = resolve(root, `build/test/filter/pure-${tag}.wasm`);
  mkdirSync(dirname(out), { recursive: true });
  execFileSync(
    resolve(root, "node_modules/.bin/asc"),
    [
      "filter/testing/exports.ts",
      "--config",
      "filter/testing/asconfig.json",
      "--target",
      "test",
      "--outFile",
      out,
    ],
    { cwd: root, stdio: "pipe" },
  );
  const { exports } = loader.instantiateSync(readFileSync(out), {
    env: {
      abort(msg: number, file: number, line: number, col: number) {
        throw new Error(`abort: ${get(msg)} at ${get(file)}:${line}:${col}`);
      },
    },
  });
  const ex = exports as unknown as Record<string, Fn> & loader.ASUtil;
  const get = (p: number) => (p ? ex.__getString(p) : "");
  const call = (name: string, ...args: Array<string | number | bigint>) => {
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
  };
}
