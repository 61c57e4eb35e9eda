/**
 * The demo's Kubernetes objects, taken from the repository's own manifests: the Canary CRD
 * (istio/crd), the sample DestinationRule and VirtualService of `reviews` (istio/samples; copied
 * under another service name for a second service) and the WasmPlugin's filter configuration
 * (istio/wasmplugin.yaml). The demo Canary keeps the sample's shape with steps and analysis short
 * enough for a few minutes on one machine, and no webhooks (nothing leaves 127.0.0.1).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { Manifest } from "./kube-objects.js";

/** The sample service every copy is made from. */
export const SAMPLE_SERVICE = "reviews";
/** Namespace of the sample objects. */
export const DEMO_NAMESPACE = "default";

/** The repository root: the nearest folder above this module holding istio/samples (source or build/js). */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, "istio", "samples")) && existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no repository root (istio/samples) above ${from}`);
    dir = up;
  }
}

/** Every document of a YAML file under the repository root. */
export function readManifests(root: string, path: string): Manifest[] {
  const text = readFileSync(join(root, path), "utf8");
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

function only(root: string, path: string, kind: string): Manifest {
  const found = readManifests(root, path).find((m) => m.kind === kind);
  if (!found) throw new Error(`${path}: no ${kind} in the file`);
  return found;
}

/** The sample object copied for another service: every whole-word "reviews" becomes `service`. */
export function renameService(m: Manifest, service: string): Manifest {
  return JSON.parse(JSON.stringify(m).replace(/\breviews\b/g, service)) as Manifest;
}

/** What the demo applies before any Canary: the CRD and, per service, its DestinationRule and VirtualService. */
export function stageManifests(root: string, services: readonly string[]): Manifest[] {
  const crd = only(root, "istio/crd/canaries.meshcanary.io.yaml", "CustomResourceDefinition");
  const dr = only(root, "istio/samples/destination-rule.yaml", "DestinationRule");
  const vs = only(root, "istio/samples/virtual-service.yaml", "VirtualService");
  return [crd, ...services.flatMap((s) => [renameService(dr, s), renameService(vs, s)])];
}

/** The WasmPlugin of istio/wasmplugin.yaml; its pluginConfig is the sidecar filter's configuration. */
export function wasmPlugin(root: string, path = "istio/wasmplugin.yaml"): Manifest {
  return only(root, path, "WasmPlugin");
}

/** The filter's controller cluster and token variable, as the WasmPlugin configures them. */
export interface FilterWiring {
  pluginConfig: string;
  cluster: string;
  tokenEnv?: string;
}

export function filterWiring(plugin: Manifest): FilterWiring | Error {
  const spec = (plugin.spec ?? {}) as {
    pluginConfig?: { controller?: { cluster?: string; tokenEnv?: string } };
  };
  const controller = spec.pluginConfig?.controller;
  if (!controller?.cluster)
    return new Error("istio/wasmplugin.yaml: spec.pluginConfig.controller.cluster is missing");
  return {
    pluginConfig: JSON.stringify(spec.pluginConfig),
    cluster: controller.cluster,
    ...(controller.tokenEnv ? { tokenEnv: controller.tokenEnv } : {}),
  };
}

/** One step of the demo rollout. */
export interface DemoStep {
  /** Canary weight, percent. */
  weight: number;
  /** Pause at the step, ms (at least the analysis' minimum step time). */
  pauseMs: number;
}

/** The analysis the demo uses; see demoCanary. */
export interface DemoAnalysis {
  minRequests: number;
  minStepMs: number;
  /** Highest canary failure rate, percent. */
  maxFailurePercent: number;
  /** Latency quantile checked (p90: decided from a few hundred requests; p99 needs far more). */
  latencyQuantile: number;
  /**
   * Highest canary latency at that quantile, ms. Absolute rather than a ratio to stable: the ratio
   * test compares against stable's figure from the 5 minutes before the step, which in a sandbox
   * that just started includes its warm-up and makes the test wait minutes for evidence.
   */
  maxLatencyMs: number;
  /**
   * The tests' unit, ms. The demo's load generator draws every request independently (no retries,
   * no pod bursts), so one-second blocks are honest here and decide in seconds; real traffic keeps
   * the 10-s default (docs/statistics.md).
   */
  blockMs: number;
}

export const DEMO_ANALYSIS: DemoAnalysis = {
  blockMs: 1000,
  minRequests: 100,
  minStepMs: 3000,
  maxFailurePercent: 2,
  latencyQuantile: 0.9,
  maxLatencyMs: 100,
};

function duration(ms: number): string {
  return `${Math.max(0, Math.round(ms))}ms`;
}

/**
 * The demo Canary for a service: the sample's host, subsets, sticky key and tokens metric, with
 * the given steps, a failure-rate check (absolute ceiling and no worse than stable) and an
 * absolute latency check, all anytime-valid sequential tests at α = 0.01.
 */
export function demoCanary(
  root: string,
  service: string,
  steps: readonly DemoStep[],
  analysis: DemoAnalysis = DEMO_ANALYSIS,
  samplePath = "istio/samples/canary.yaml",
): Manifest {
  const sample = renameService(only(root, samplePath, "Canary"), service);
  const spec = sample.spec as Record<string, unknown>;
  return {
    apiVersion: sample.apiVersion,
    kind: "Canary",
    metadata: { name: service, namespace: sample.metadata.namespace ?? DEMO_NAMESPACE },
    spec: {
      host: spec.host,
      ...(spec.httpRoute ? { httpRoute: spec.httpRoute } : { virtualService: spec.virtualService }),
      stable: spec.stable,
      canary: spec.canary,
      sticky: spec.sticky,
      cohort: `${service}-demo`,
      metrics: spec.metrics,
      strategy: {
        canary: {
          steps: steps.map((s) => ({ weight: s.weight, pause: { duration: duration(s.pauseMs) } })),
        },
      },
      analysis: {
        alpha: 0.01,
        minRequests: analysis.minRequests,
        minStepDuration: duration(analysis.minStepMs),
        blockDuration: duration(analysis.blockMs),
        checks: [
          // The ceiling passes a step when failures are too rare to compare; the comparison with
          // stable (maxIncrease 0: no worse than stable) catches a regression fastest.
          { name: "failure-rate", failureRate: { max: analysis.maxFailurePercent, maxIncrease: 0 } },
          {
            name: `latency-p${Math.round(analysis.latencyQuantile * 100)}`,
            latency: { quantile: analysis.latencyQuantile, maxMs: analysis.maxLatencyMs },
          },
        ],
      },
    },
  };
}
