/**
 * The dashboard's static files (controller/api/dashboard/), read once at startup and served from
 * memory: index.html at "/" and every .js module and .css sheet of the folder by its file name.
 * `make build` copies the folder next to the compiled server.
 */
import { readdir, readFile } from "node:fs/promises";

/** One file as served. */
export interface Asset {
  contentType: string;
  body: Buffer;
}

const CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/** A servable asset's file name: lower-case words, one extension the server knows. */
const ASSET_NAME = /^[a-z][a-z0-9-]*\.(js|css)$/;

/** Where the dashboard files are, next to this module. */
export const DASHBOARD_DIR = new URL("./dashboard/", import.meta.url);

/** The dashboard files by URL path, or an error naming the file that could not be read. */
export async function loadDashboard(dir: URL = DASHBOARD_DIR): Promise<Map<string, Asset> | Error> {
  const files: Array<[string, string, string]> = [["/", "index.html", "text/html; charset=utf-8"]];
  try {
    for (const name of (await readdir(dir)).sort()) {
      const ext = ASSET_NAME.exec(name)?.[1];
      if (ext) files.push([`/${name}`, name, CONTENT_TYPES[ext]!]);
    }
  } catch (err) {
    return new Error(`dashboard folder ${dir.pathname}: ${(err as Error).message}`);
  }
  const out = new Map<string, Asset>();
  for (const [path, file, contentType] of files) {
    const url = new URL(file, dir);
    try {
      out.set(path, { contentType, body: await readFile(url) });
    } catch (err) {
      return new Error(`dashboard asset ${url.pathname}: ${(err as Error).message}`);
    }
  }
  return out;
}
