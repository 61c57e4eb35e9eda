/**
 * Builds the filter's OCI image in memory: the "compat" layout Istio's agent accepts (host contract
 * §10): an OCI manifest with exactly one `tar+gzip` layer holding `plugin.wasm`. Pure and
 * deterministic, so the manifest digest only changes when the wasm does.
 */
import { createHash } from "node:crypto";
import { constants, gzipSync } from "node:zlib";
import { writeTar } from "./tar.js";

export const MEDIA_TYPES = {
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  config: "application/vnd.oci.image.config.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
} as const;

/** The file name Istio's image fetcher looks for inside the layer. */
export const WASM_FILE = "plugin.wasm";

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  /** `sha256:<64 hex>` of the blob. */
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** The image as an OCI layout holds it. */
export interface OciImage {
  /** Blobs by digest (`sha256:<hex>`): layer, config and manifest. */
  blobs: Map<string, Uint8Array>;
  /** Descriptor of the manifest; its digest is what WasmPlugin `sha256` pins (without the prefix). */
  manifest: Descriptor;
  /** The layout's `index.json` document. */
  index: object;
}

export function sha256Digest(bytes: Uint8Array): string {
  return "sha256:" + createHash("sha256").update(bytes).digest("hex");
}

function describe(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length };
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/**
 * gzip with a zero header mtime (Node's default) and a fixed level, so the layer digest is
 * reproducible with the same zlib.
 */
function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }));
}

/** Builds the image for `wasm`; `refName` becomes the index's `org.opencontainers.image.ref.name`. */
export function buildWasmImage(wasm: Uint8Array, refName: string): OciImage {
  const tar = writeTar([{ name: WASM_FILE, data: wasm }]);
  const layerBytes = gzip(tar);
  const layer = describe(MEDIA_TYPES.layer, layerBytes);
  // Minimal valid image config; wasm/wasip1 is the platform containerd's wasm shims use.
  const configBytes = json({
    architecture: "wasm",
    os: "wasip1",
    rootfs: { type: "layers", diff_ids: [sha256Digest(tar)] },
    config: {},
  });
  const config = describe(MEDIA_TYPES.config, configBytes);
  const manifestBytes = json({ schemaVersion: 2, mediaType: MEDIA_TYPES.manifest, config, layers: [layer] });
  const manifest = describe(MEDIA_TYPES.manifest, manifestBytes);
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [{ ...manifest, annotations: { "org.opencontainers.image.ref.name": refName } }],
  };
  const blobs = new Map<string, Uint8Array>([
    [layer.digest, layerBytes],
    [config.digest, configBytes],
    [manifest.digest, manifestBytes],
  ]);
  return { blobs, manifest, index };
}
