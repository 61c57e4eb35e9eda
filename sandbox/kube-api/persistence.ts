/**
 * Optional persistence to a directory: the whole store as one JSON file, rewritten atomically
 * (temp file + rename) after each change and loaded at start.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StoreSnapshot } from "./store.js";

const FILE = "kube-api-store.json";

/** The saved snapshot in dir, undefined if none, or an error message naming the file. */
export function loadSnapshot(dir: string): StoreSnapshot | undefined | string {
  const path = join(dir, FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return `${path}: ${(e as Error).message}`;
  }
  try {
    const parsed = JSON.parse(text) as StoreSnapshot;
    if (typeof parsed.resourceVersion !== "number" || !Array.isArray(parsed.objects)) {
      return `${path}: not a kube-api store snapshot (needs resourceVersion and objects)`;
    }
    return parsed;
  } catch (e) {
    return `${path}: invalid JSON: ${(e as Error).message}`;
  }
}

/** Writes the snapshot to dir (created if missing). */
export function saveSnapshot(dir: string, snapshot: StoreSnapshot): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(snapshot));
  renameSync(tmp, path);
}
