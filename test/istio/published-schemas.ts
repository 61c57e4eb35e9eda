/**
 * Validators from published CRD schemas vendored under test/fixtures/schemas (no npm package ships
 * them: @kubernetes-models/gateway-api is not a dependency, and @kubernetes-models/istio 3.0.1
 * predates TrafficExtension). Each file is the upstream CRD with only its served storage version
 * kept: Gateway API v1.6.3 standard channel (HTTPRoute, Gateway) and istio/api v1.32.0
 * (TrafficExtension). CEL rules (x-kubernetes-validations) are not evaluated here; the real
 * kube-apiserver suite (test/kube-real) does that.
 */
import { readFileSync } from "node:fs";
import { crdValidator, type KubeObject, type Validator } from "./validators.js";

const DIR = new URL("../fixtures/schemas/", import.meta.url);

/** The vendored CRDs, by file name. */
export const PUBLISHED_CRDS = [
  "gateway-api-v1.6.3-httproutes.json",
  "gateway-api-v1.6.3-gateways.json",
  "istio-1.32.0-trafficextensions.json",
] as const;

export function publishedCrd(file: (typeof PUBLISHED_CRDS)[number]): KubeObject {
  return JSON.parse(readFileSync(new URL(file, DIR), "utf8")) as KubeObject;
}

/** "group/version/Kind" → validator, for every vendored CRD. */
export function publishedValidators(): Map<string, Validator> {
  return new Map(PUBLISHED_CRDS.flatMap((f) => [...crdValidator(publishedCrd(f))]));
}
