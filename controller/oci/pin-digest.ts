/**
 * Keeps the install manifests pinned to the built image: rewrites `data.sha256` of the
 * `meshcanary-wasm` parameters ConfigMap (istio/wasm/wasm-image.yaml), keeping its comments.
 */
import { parseDocument } from "yaml";

/** Result of pinning: the new text, or an error naming what was wrong with the file. */
export type PinResult = { ok: true; text: string; changed: boolean } | { ok: false; error: string };

/** Sets `data.sha256` to `hex` (64 lower-case hex digits, no `sha256:` prefix). */
export function pinDigest(yamlText: string, hex: string): PinResult {
  if (!/^[0-9a-f]{64}$/.test(hex)) return { ok: false, error: `sha256: must be 64 hex digits, got ${hex}` };
  const doc = parseDocument(yamlText);
  if (doc.errors.length > 0) return { ok: false, error: `yaml: ${doc.errors[0]!.message}` };
  if (doc.get("kind") !== "ConfigMap" || !doc.hasIn(["data", "sha256"])) {
    return { ok: false, error: "expected a ConfigMap with data.sha256" };
  }
  const changed = doc.getIn(["data", "sha256"]) !== hex;
  doc.setIn(["data", "sha256"], hex);
  return { ok: true, text: doc.toString(), changed };
}
