/**
 * `make oci`: packages build/meshcanary.wasm as an OCI image without Docker, writes the layout
 * directory and the oci-archive tarball, pins the install manifests to it and prints the manifest
 * digest (`sha256:<hex>`) on stdout.
 *
 * Usage: node build/js/controller/oci/build-oci.js [--wasm F] [--out DIR] [--tar F] [--ref TAG] [--pin F]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { buildWasmImage } from "./image.js";
import { writeLayoutDir, writeLayoutTar } from "./layout.js";
import { pinDigest } from "./pin-digest.js";

const DEFAULTS = {
  wasm: "build/meshcanary.wasm",
  out: "build/oci",
  tar: "build/meshcanary-wasm-oci.tar",
  pin: "istio/wasm/wasm-image.yaml",
};

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version?: string };
  return pkg.version ?? "dev";
}

function run(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      wasm: { type: "string", default: DEFAULTS.wasm },
      out: { type: "string", default: DEFAULTS.out },
      tar: { type: "string", default: DEFAULTS.tar },
      ref: { type: "string" },
      pin: { type: "string", default: DEFAULTS.pin },
      "no-pin": { type: "boolean", default: false },
    },
  });
  const image = buildWasmImage(new Uint8Array(readFileSync(values.wasm)), values.ref ?? packageVersion());
  writeLayoutDir(values.out, image);
  writeLayoutTar(values.tar, image);
  if (!values["no-pin"]) {
    const pinned = pinDigest(readFileSync(values.pin, "utf8"), image.manifest.digest.slice("sha256:".length));
    if (!pinned.ok) {
      console.error(`build-oci: ${values.pin}: ${pinned.error}`);
      return 1;
    }
    if (pinned.changed) {
      writeFileSync(values.pin, pinned.text);
      console.error(`build-oci: pinned ${values.pin} to the new digest`);
    }
  }
  console.log(image.manifest.digest);
  return 0;
}

try {
  process.exitCode = run(process.argv.slice(2));
} catch (err) {
  console.error(`build-oci: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
