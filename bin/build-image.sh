#!/usr/bin/env bash
# Builds the controller image from the Dockerfile with the first usable container builder:
# docker (with a reachable daemon), podman, then buildah; CONTAINER_BUILDER=<one of them> picks it.
# Usage: bin/build-image.sh IMAGE[:TAG]. Exit 2 when no builder is usable, naming what is missing.
set -euo pipefail
image=${1:?usage: bin/build-image.sh IMAGE[:TAG]}
cd "${0%/*}/.."

candidates=(docker podman buildah)
if [[ -n ${CONTAINER_BUILDER:-} ]]; then
  case $CONTAINER_BUILDER in
    docker | podman | buildah) candidates=("$CONTAINER_BUILDER") ;;
    *)
      echo "make image: CONTAINER_BUILDER must be docker, podman or buildah, got '$CONTAINER_BUILDER'" >&2
      exit 2
      ;;
  esac
fi

notes=()
for builder in "${candidates[@]}"; do
  if ! command -v "$builder" >/dev/null 2>&1; then
    notes+=("$builder: not on PATH")
    continue
  fi
  # The docker CLI is often installed without a daemon (or without access to its socket).
  if [[ $builder == docker ]] && ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    notes+=("docker: found, but its daemon is not reachable (docker version fails)")
    continue
  fi
  echo "make image: building $image with $builder"
  case $builder in
    docker | podman) exec "$builder" build -t "$image" -f Dockerfile . ;;
    buildah) exec buildah build -t "$image" -f Dockerfile . ;;
  esac
done

{
  echo "make image: no usable container builder; it needs docker (with a running daemon), podman or buildah."
  printf '  %s\n' "${notes[@]}"
  echo "  Install one of them, or build the Dockerfile elsewhere (e.g. in CI); CONTAINER_BUILDER picks one."
} >&2
exit 2
