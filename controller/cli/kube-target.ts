/**
 * Where the kube-facing commands point: the shared --kubeconfig/--context/--namespace options, the
 * KubeConfig they select (KUBECONFIG and ~/.kube/config otherwise) and API failures as CLI errors.
 */
import type { Command } from "commander";
import { type KubeConfig, loadKubeConfig } from "../kube/client.js";
import type { KubeError } from "../kube/errors.js";
import { CliError, EXIT } from "./exit.js";

/** The options addKubeOptions declares. */
export interface KubeTargetOptions {
  /** Kubeconfig file; default $KUBECONFIG, then ~/.kube/config. */
  kubeconfig?: string;
  /** Kubeconfig context; default the current one. */
  context?: string;
  /** Namespace; default the context's, then "default". */
  namespace?: string;
}

/** A connection and the namespace commands act in. */
export interface KubeTarget {
  kc: KubeConfig;
  namespace: string;
}

export function addKubeOptions(command: Command): Command {
  return command
    .option("--kubeconfig <file>", "kubeconfig file (default $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "kubeconfig context (default the current one)")
    .option("-n, --namespace <namespace>", "namespace (default the context's, then default)");
}

/** Loads the kubeconfig; a bad file or unknown context is a failure naming it. */
export function kubeTarget(options: KubeTargetOptions): KubeTarget {
  const kc = loadKubeConfig({
    ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.context !== undefined ? { context: options.context } : {}),
  });
  if ("error" in kc) throw new CliError(kc.error, EXIT.failed);
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return { kc, namespace: options.namespace ?? contextNamespace ?? "default" };
}

/** A failed API call as a CLI error: not found → exit 3 naming the object, unreachable → the URL. */
export function kubeFailure(kc: KubeConfig, error: KubeError, what: string): CliError {
  if (error.reason === "NotFound") return new CliError(`${what} not found`, EXIT.notFound);
  const server = kc.getCurrentCluster()?.server ?? "(no server in kubeconfig)";
  if (error.code === 0) {
    return new CliError(`cannot reach the Kubernetes API at ${server}: ${error.message}`, EXIT.failed);
  }
  return new CliError(
    `${what}: ${error.reason} (HTTP ${error.code}) from ${server}: ${error.message}`,
    EXIT.failed,
  );
}
