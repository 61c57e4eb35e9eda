#!/usr/bin/env node
// The `meshcanary` command: runs the compiled CLI (make build produces build/js).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "build/js/sandbox/cli.js");
if (!existsSync(cli)) {
  console.error("meshcanary: not built yet; run 'make build' first");
  process.exit(2);
}
const { main } = await import(pathToFileURL(cli).href);
process.exitCode = await main(process.argv.slice(2));
