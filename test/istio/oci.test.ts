import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { buildWasmImage, MEDIA_TYPES, sha256Digest, WASM_FILE } from "../../controller/oci/image.js";
import { writeLayoutDir, writeLayoutTar } from "../../controller/oci/layout.js";
import { pinDigest } from "../../controller/oci/pin-digest.js";
import { readTar, writeTar } from "../../controller/oci/tar.js";

const work = mkdtempSync(join(tmpdir(), "meshcanary-oci-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A valid, tiny wasm module: header plus one custom section, so the bytes are not trivial. */
function tinyWasm(): Uint8Array {
  const name = new TextEncoder().encode("meshcanary-test");
  const payload = new Uint8Array(700).map((_, i) => (i * 7) % 251);
  const body = [name.length, ...name, ...payload];
  // Section size as LEB128 (body is < 16384 bytes, so two bytes suffice).
  const size = [(body.length & 0x7f) | 0x80, body.length >> 7];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00, ...size, ...body]);
}

const sources: [string, () => Uint8Array][] = [["a small wasm", tinyWasm]];
if (existsSync("build/meshcanary.wasm")) {
  sources.push(["build/meshcanary.wasm", () => new Uint8Array(readFileSync("build/meshcanary.wasm"))]);
}

const hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));

describe.each(sources)("OCI image layout from %s", (label, load) => {
  const wasm = load();
  const dir = join(work, label.replace(/\W/g, "_"));
  const archive = `${dir}.tar`;
  const image = buildWasmImage(wasm, "0.1.0");
  writeLayoutDir(dir, image);
  writeLayoutTar(archive, image);

  it("has the layout files and an index pointing at the manifest", () => {
    expect(readJson(join(dir, "oci-layout"))).toEqual({ imageLayoutVersion: "1.0.0" });
    const index = readJson(join(dir, "index.json"));
    expect(index.schemaVersion).toBe(2);
    expect(index.mediaType).toBe(MEDIA_TYPES.index);
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(index.manifests[0].digest).toBe(image.manifest.digest);
    expect(index.manifests[0].annotations["org.opencontainers.image.ref.name"]).toBe("0.1.0");
  });

  it("names every blob by the sha256 of its content", () => {
    const names = readdirSync(join(dir, "blobs/sha256"));
    expect(names).toHaveLength(3);
    for (const name of names) {
      expect(hex(readFileSync(join(dir, "blobs/sha256", name)))).toBe(name);
    }
  });

  it("has a compat manifest: OCI media types, sizes matching, exactly one tar+gzip layer", () => {
    const blob = (digest: string) => join(dir, "blobs/sha256", digest.replace(/^sha256:/, ""));
    const manifest = readJson(blob(image.manifest.digest));
    expect(statSync(blob(image.manifest.digest)).size).toBe(image.manifest.size);
    expect(manifest.schemaVersion).toBe(2);
    expect(manifest.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(manifest.config.mediaType).toBe("application/vnd.oci.image.config.v1+json");
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0].mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    for (const d of [manifest.config, manifest.layers[0]]) {
      expect(d.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(statSync(blob(d.digest)).size).toBe(d.size);
    }
    const config = readJson(blob(manifest.config.digest));
    const tar = gunzipSync(readFileSync(blob(manifest.layers[0].digest)));
    expect(config.rootfs).toEqual({ type: "layers", diff_ids: [sha256Digest(tar)] });
    expect(typeof config.architecture).toBe("string");
    expect(typeof config.os).toBe("string");
  });

  it("has a layer holding exactly plugin.wasm with the module's bytes (own reader and GNU tar)", () => {
    const manifest = readJson(join(dir, "blobs/sha256", image.manifest.digest.slice(7)));
    const layerPath = join(dir, "blobs/sha256", manifest.layers[0].digest.slice(7));
    const entries = readTar(gunzipSync(readFileSync(layerPath)));
    expect(entries.map((e) => e.name)).toEqual([WASM_FILE]);
    expect(Buffer.from(entries[0]!.data!).equals(Buffer.from(wasm))).toBe(true);
    const listed = execFileSync("tar", ["-tzvf", layerPath], { encoding: "utf8" }).trim().split("\n");
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatch(new RegExp(`\\s${wasm.length}\\s.*\\s${WASM_FILE}$`));
    const extracted = execFileSync("tar", ["-xzOf", layerPath, WASM_FILE]);
    expect(extracted.equals(Buffer.from(wasm))).toBe(true);
  });

  it("writes an oci-archive tarball with the same files as the directory", () => {
    const entries = readTar(new Uint8Array(readFileSync(archive)));
    const files = entries.filter((e) => e.data !== undefined);
    expect(files.map((e) => e.name).sort()).toEqual(
      [
        "index.json",
        "oci-layout",
        ...readdirSync(join(dir, "blobs/sha256")).map((n) => `blobs/sha256/${n}`),
      ].sort(),
    );
    for (const f of files) {
      expect(Buffer.from(f.data!).equals(readFileSync(join(dir, f.name)))).toBe(true);
    }
    const gnu = execFileSync("tar", ["-tf", archive], { encoding: "utf8" }).trim().split("\n");
    expect(gnu).toEqual(entries.map((e) => e.name));
  });

  it("is reproducible: a second build has the same digest and archive bytes", () => {
    const again = buildWasmImage(load(), "0.1.0");
    expect(again.manifest.digest).toBe(image.manifest.digest);
    const second = `${dir}-again.tar`;
    writeLayoutTar(second, again);
    expect(readFileSync(second).equals(readFileSync(archive))).toBe(true);
  });
});

describe("buildWasmImage", () => {
  it("changes the digest when the module changes", () => {
    const a = tinyWasm();
    const b = tinyWasm();
    b[b.length - 1] ^= 1;
    expect(buildWasmImage(a, "x").manifest.digest).not.toBe(buildWasmImage(b, "x").manifest.digest);
  });
});

describe("tar", () => {
  it("round-trips files and directories, padding to 512-byte blocks", () => {
    const entries = [
      { name: "d/" },
      { name: "d/a", data: new Uint8Array([1, 2, 3]) },
      { name: "e", data: new Uint8Array(512) },
    ];
    const bytes = writeTar(entries);
    expect(bytes.length % 512).toBe(0);
    expect(bytes.length).toBe(512 * (3 + 1 + 1 + 2));
    expect(readTar(bytes)).toEqual(entries);
  });

  it("rejects a corrupted header and names that do not fit", () => {
    const bytes = writeTar([{ name: "a", data: new Uint8Array([1]) }]);
    bytes[0] = "b".charCodeAt(0);
    expect(() => readTar(bytes)).toThrow(/bad header checksum at offset 0/);
    expect(() => writeTar([{ name: "x".repeat(101), data: new Uint8Array() }])).toThrow(
      /longer than 100 bytes/,
    );
  });
});

describe("pinDigest", () => {
  const digest = "ab".repeat(32);
  const configMap = [
    "# comment kept",
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: meshcanary-wasm",
    "data:",
    "  url: oci://r/x:1",
    '  sha256: "' + "0".repeat(64) + '"',
    "",
  ].join("\n");

  it.each([
    ["a ConfigMap with data.sha256", configMap, digest, { ok: true, changed: true }],
    [
      "the same digest again",
      configMap.replace("0".repeat(64), digest),
      digest,
      { ok: true, changed: false },
    ],
    ["a short digest", configMap, "abc", { ok: false, error: "sha256: must be 64 hex digits, got abc" }],
    ["a digest with prefix", configMap, `sha256:${digest}`, { ok: false }],
    ["another kind", configMap.replace("ConfigMap", "Secret"), digest, { ok: false }],
    ["no data.sha256", configMap.replace("sha256:", "sha: "), digest, { ok: false }],
  ])("%s", (_, text, hexDigest, expected) => {
    const result = pinDigest(text, hexDigest);
    expect(result).toMatchObject(expected);
    if (result.ok) {
      expect(result.text).toContain(`sha256: "${digest}"`);
      expect(result.text).toContain("# comment kept");
    }
  });

  it("is what build-oci runs: it prints the digest and pins the file", () => {
    const wasmPath = join(work, "cli.wasm");
    const pinPath = join(work, "wasm-image.yaml");
    writeFileSync(wasmPath, tinyWasm());
    writeFileSync(pinPath, configMap);
    const out = execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "controller/oci/build-oci.ts",
        "--wasm",
        wasmPath,
        "--out",
        join(work, "cli-oci"),
        "--tar",
        join(work, "cli.tar"),
        "--ref",
        "0.1.0",
        "--pin",
        pinPath,
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    ).trim();
    const expected = buildWasmImage(tinyWasm(), "0.1.0").manifest.digest;
    expect(out).toBe(expected);
    expect(readFileSync(pinPath, "utf8")).toContain(`sha256: "${expected.slice(7)}"`);
    expect(existsSync(join(work, "cli-oci", "index.json"))).toBe(true);
  });
});
