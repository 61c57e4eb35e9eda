/**
 * Writes an `OciImage` to disk as an OCI image layout directory and as an `oci-archive` tarball
 * (the same layout in one tar, as `skopeo copy oci-archive:…` reads it).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { OciImage } from "./image.js";
import { type TarEntry, writeTar } from "./tar.js";

const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: "1.0.0" });

/** The layout's files, in a fixed order (sorted blob names) so the archive is reproducible. */
export function layoutEntries(image: OciImage): TarEntry[] {
  const text = (s: string) => new TextEncoder().encode(s);
  const blobNames = [...image.blobs.keys()].sort();
  return [
    { name: "oci-layout", data: text(OCI_LAYOUT) },
    { name: "index.json", data: text(JSON.stringify(image.index)) },
    { name: "blobs/" },
    { name: "blobs/sha256/" },
    ...blobNames.map((digest) => ({
      name: `blobs/sha256/${digest.slice("sha256:".length)}`,
      data: image.blobs.get(digest)!,
    })),
  ];
}

/** Replaces `dir` with the image's layout directory. */
export function writeLayoutDir(dir: string, image: OciImage): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of layoutEntries(image)) {
    const path = join(dir, entry.name);
    if (entry.data === undefined) mkdirSync(path, { recursive: true });
    else writeFileSync(path, entry.data);
  }
}

/** Writes the layout as one tar file (an `oci-archive`). */
export function writeLayoutTar(path: string, image: OciImage): void {
  writeFileSync(path, writeTar(layoutEntries(image)));
}
