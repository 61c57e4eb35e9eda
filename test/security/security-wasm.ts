// Compiles filter/testing/security-exports.ts (SHA-256, HMAC, pin tokens behind a test entry) with
// asc and loads it through @assemblyscript/loader, with wrappers that pin string arguments.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as loader from "@assemblyscript/loader";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

type Fn = (...args: unknown[]) => unknown;

/** The security test wasm: calls an export and returns its string result. */
export interface SecurityWasm {
  str(name: string, ...args: Array<string | number | bigint>): string;
}

/** Compiles to build/test/security/security-<tag>.wasm (one file per test file: no races) and loads it. */
export function loadSecurityWasm(tag: string): SecurityWasm {
  const out = resolve(root, `build/test/security/security-${tag}.wasm`);
  mkdirSync(dirname(out), { recursive: true });
  execFileSync(
    resolve(root, "node_modules/.bin/asc"),
    [
      "filter/testing/security-exports.ts",
      "--config",
      "filter/testing/asconfig.security.json",
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
  return {
    str(name, ...args) {
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
        return get(fn(...wasmArgs) as number);
      } finally {
        for (const p of pinned) ex.__unpin(p);
      }
    },
  };
}
