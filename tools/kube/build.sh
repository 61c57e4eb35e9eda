#!/usr/bin/env bash
# Builds etcd and kube-apiserver from the Go module proxy (no repository checkout, no prebuilt
# download) and collects the Istio and Gateway API CRDs from their Go modules, into a cache that
# outlives the work tree: only the first run on a machine pays the build.
#   tools/kube/build.sh            build what is missing, then print the two cache directories
#   tools/kube/build.sh --print    print them only (line 1: binaries, line 2: CRDs; no build)
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.17}"
ISTIO_API_VERSION="${ISTIO_API_VERSION:-v1.32.0}"
GATEWAY_API_VERSION="${GATEWAY_API_VERSION:-v1.6.3}"
# Staging modules (k8s.io/api, client-go, ...) are tagged v0.<minor>.<patch> alongside v1.<minor>.<patch>.
STAGING_VERSION="v0.${KUBE_VERSION#v1.}"

cache_root="${MESHCANARY_KUBE_CACHE:-${XDG_CACHE_HOME:-${HOME:-$(cd ~ && pwd)}/.cache}/meshcanary}"
dir="$cache_root/kube-$KUBE_VERSION-etcd-$ETCD_VERSION"
crds="$cache_root/crds-istio-$ISTIO_API_VERSION-gateway-api-$GATEWAY_API_VERSION"
if [ "${1:-}" = "--print" ]; then printf '%s\n%s\n' "$dir" "$crds"; exit 0; fi

mkdir -p "$dir/bin" "$dir/src" "$crds"
log() { echo "kube-bins: $*" >&2; }
# Concurrent runs (two checkouts, two CI jobs) wait for one build instead of racing it.
exec 9>"$cache_root/.lock"
flock 9
export GOFLAGS=-mod=mod CGO_ENABLED=0
build_flags=(-p 2 -trimpath)

# One throwaway module per binary so that neither dependency graph constrains the other.
write_module() { # dir module-path go.mod-body
  mkdir -p "$1"
  printf 'module %s\n\ngo 1.26.0\n\n%s\n' "$2" "$3" >"$1/go.mod"
  : >"$1/go.sum"
}

timed() { # name cmd...: runs cmd, records wall time and peak RSS of the go toolchain
  local name="$1"; shift
  local start=$SECONDS
  /usr/bin/time -v -o "$dir/src/$name.time" "$@"
  log "$name built in $((SECONDS - start))s (peak RSS $(awk -F': ' '/Maximum resident/ {print int($2/1024) " MiB"}' "$dir/src/$name.time"))"
}

if [ ! -x "$dir/bin/etcd" ]; then
  log "building etcd $ETCD_VERSION"
  m="$dir/src/etcd"
  write_module "$m" meshcanary.local/etcd "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  (cd "$m" && timed etcd go build "${build_flags[@]}" \
    -ldflags="-s -w" -o "$dir/bin/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$dir/bin/etcd.tmp" "$dir/bin/etcd"
fi

if [ ! -x "$dir/bin/kube-apiserver" ]; then
  log "building kube-apiserver $KUBE_VERSION (staging modules $STAGING_VERSION)"
  gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/...;
  # a consumer must replace each with its published version.
  replaces="$(sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$STAGING_VERSION"'#p' "$gomod")"
  [ -n "$replaces" ] || { log "no staging replaces found in $gomod"; exit 1; }
  m="$dir/src/kube-apiserver"
  write_module "$m" meshcanary.local/kube-apiserver \
    "require k8s.io/kubernetes $KUBE_VERSION

replace (
$replaces
)"
  minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  v=k8s.io/component-base/version
  (cd "$m" && timed kube-apiserver go build "${build_flags[@]}" \
    -ldflags="-s -w -X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean" \
    -o "$dir/bin/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$dir/bin/kube-apiserver.tmp" "$dir/bin/kube-apiserver"
fi

# The module's extracted directory; fails with the proxy's or the go command's error.
module_dir() {
  local json d
  json="$(go mod download -json "$1" || true)"
  d="$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$json")"
  if [ -z "$d" ]; then log "go mod download $1 failed: $json"; return 1; fi
  echo "$d"
}

if [ ! -s "$crds/istio.yaml" ]; then
  src="$(module_dir "istio.io/api@$ISTIO_API_VERSION")/kubernetes/customresourcedefinitions.gen.yaml"
  install -m 644 "$src" "$crds/istio.yaml.tmp" && mv "$crds/istio.yaml.tmp" "$crds/istio.yaml"
fi

if [ ! -s "$crds/gateway-api.yaml" ]; then
  src="$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")/config/crd/standard"
  [ -d "$src" ] || { log "$src: no such directory"; exit 1; }
  for f in "$src"/*.yaml; do printf -- '---\n'; cat "$f"; done >"$crds/gateway-api.yaml.tmp"
  mv "$crds/gateway-api.yaml.tmp" "$crds/gateway-api.yaml"
fi

etcd_version="$("$dir/bin/etcd" --version)"
{ echo "${etcd_version%%$'\n'*}"; "$dir/bin/kube-apiserver" --version; } >"$dir/versions.txt"
printf '%s\n%s\n' "$dir" "$crds"
