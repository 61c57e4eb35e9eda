/**
 * The dashboard's static files (controller/api/dashboard/), read once at startup and served from
 * memory. `make build` copies the folder next to the compiled server.
 */
import { readFile } from "node:fs/promises";

/** One file as served. */
export interface Asset {
  contentType: string;
  body: Buffer;
}

/** URL path -> file name in the dashboard folder. */
const FILES: Record<string, { file: string; contentType: string }> = {
  "/": { file: "index.html", contentType: "text/html; charset=utf-8" },
  "/dashboard.js": { file: "dashboard.js", contentType: "text/javascript; charset=utf-8" },
  "/dashboard.css": { file: "dashboard.css", contentType: "text/css; charset=utf-8" },
};

/** Where the dashboard files are, next to this module. */
export const DASHBOARD_DIR = new URL("./dashboard/", import.meta.url);

/** The dashboard files by URL path, or an error naming the file that could not be read. */
export async function loadDashboard(dir: URL = DASHBOARD_DIR): Promise<Map<string, Asset> | Error> {
  const out = new Map<string, Asset>();
  for (const [path, { file, contentType }] of Object.entries(FILES)) {
    const url = new URL(file, dir);
    try {
      out.set(path, { contentType, body: await readFile(url) });
    } catch (err) {
      return new Error(`dashboard asset ${url.pathname}: ${(err as Error).message}`);
    }
  }
  return out;
}
