/**
 * `make image` (bin/build-image.sh): picks the first usable builder, and without one exits 2 naming
 * what is missing. Builders are stand-in scripts on a PATH of their own, recording how they were run.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const REPO = process.cwd();
const SCRIPT = join(REPO, "bin/build-image.sh");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A bin directory with stand-in builders: name → exit code of `version` (docker) / of the build. */
function fakeBin(builders: Record<string, { version?: number; build?: number }>): {
  bin: string;
  log: string;
} {
  const bin = mkdtempSync(join(tmpdir(), "meshcanary-builders-"));
  dirs.push(bin);
  const log = join(bin, "calls.log");
  for (const [name, codes] of Object.entries(builders)) {
    const path = join(bin, name);
    writeFileSync(
      path,
      `#!/bin/sh\nif [ "$1" = version ]; then exit ${codes.version ?? 0}; fi\necho "${name} $* (in $(pwd))" >> ${log}\nexit ${codes.build ?? 0}\n`,
    );
    chmodSync(path, 0o755);
  }
  return { bin, log };
}

function run(bin: string, env: Record<string, string> = {}) {
  const r = spawnSync("/bin/bash", [SCRIPT, "registry.example/meshcanary:9.9.9"], {
    env: { PATH: bin, ...env },
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const calls = (log: string) => {
  try {
    return readFileSync(log, "utf8").trim().split("\n");
  } catch {
    return [];
  }
};

describe("make image", () => {
  it("without any builder exits 2, naming each one and why it is unusable", () => {
    const { bin } = fakeBin({});
    const r = run(bin);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "no usable container builder; it needs docker (with a running daemon), podman or buildah",
    );
    for (const b of ["docker", "podman", "buildah"]) expect(r.stderr).toContain(`${b}: not on PATH`);
  });

  it("through make, with only node, make and bash on PATH, says the same", () => {
    const { bin } = fakeBin({});
    for (const tool of [process.execPath, "/usr/bin/make", "/bin/bash"])
      symlinkSync(tool, join(bin, tool.split("/").pop()!));
    const r = spawnSync("/usr/bin/make", ["--no-print-directory", "-s", "image", "IMAGE=x/y:1"], {
      cwd: REPO,
      env: { PATH: bin },
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("make image: no usable container builder");
    expect(r.stderr).toContain("docker: not on PATH");
  });

  it("passes over a docker CLI whose daemon is unreachable and builds with podman from the repo root", () => {
    const { bin, log } = fakeBin({ docker: { version: 1 }, podman: {} });
    const r = run(bin);
    expect(r.status).toBe(0);
    expect(calls(log)).toEqual([
      `podman build -t registry.example/meshcanary:9.9.9 -f Dockerfile . (in ${REPO})`,
    ]);
  });

  it("uses docker when its daemon answers", () => {
    const { bin, log } = fakeBin({ docker: {}, podman: {} });
    expect(run(bin).status).toBe(0);
    expect(calls(log)).toEqual([
      `docker build -t registry.example/meshcanary:9.9.9 -f Dockerfile . (in ${REPO})`,
    ]);
  });

  it("CONTAINER_BUILDER picks one; an unknown one is refused; a failed build fails", () => {
    const { bin, log } = fakeBin({ docker: {}, buildah: {} });
    expect(run(bin, { CONTAINER_BUILDER: "buildah" }).status).toBe(0);
    expect(calls(log)).toEqual([
      `buildah build -t registry.example/meshcanary:9.9.9 -f Dockerfile . (in ${REPO})`,
    ]);
    const refused = run(bin, { CONTAINER_BUILDER: "kaniko" });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("CONTAINER_BUILDER must be docker, podman or buildah, got 'kaniko'");
    const broken = fakeBin({ podman: { build: 7 } });
    expect(run(broken.bin).status).toBe(7);
  });
});
