# meshcanary controller image. Build: docker build -t ghcr.io/meshcanary/meshcanary-controller:0.1.0 .
# The filter is shipped separately as an OCI wasm image (`make oci`, docs/install-istio.md).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# Stage 1: compile the filter and the TypeScript with the full toolchain.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN make build

# Stage 2: production dependencies only (no compilers, no test tools).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Stage 3: runtime — node, production node_modules, compiled JS, nothing else.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/build/js ./build/js
COPY --from=build /src/build/meshcanary.wasm ./build/meshcanary.wasm
COPY package.json ./
COPY bin ./bin
# Distroless-style "nonroot" uid/gid; numeric so runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 9090 8080
# No HEALTHCHECK: Kubernetes ignores it. Health is probed by the Deployment
# (istio/controller/deployment.yaml): liveness GET /healthz, readiness GET /readyz on port 8080.
ENTRYPOINT ["node", "bin/meshcanary.js", "controller"]
