/**
 * `meshcanary controller`: runs the controller. Flags match istio/controller/deployment.yaml;
 * secrets come from the environment or a file, never from argv (which `ps` shows).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Command } from "commander";
import pino from "pino";
import { type ControllerOptions, startController } from "../app/controller.js";
import { placeholderSecret } from "../security/placeholder-secrets.js";
import { telemetryIdentity } from "./telemetry-identity.js";
import { CliError, EXIT } from "./exit.js";

/** Parsed flags of `meshcanary controller` (commander's camelCase names). */
export interface ControllerFlags {
  kubeconfig?: string;
  context?: string;
  inCluster?: boolean;
  namespace?: string;
  bind?: string;
  telemetryPort: string;
  httpPort: string;
  apiTokenFile?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  leaseName: string;
  leaseDuration: string;
  tick: string;
  logLevel: string;
  telemetryIdentity?: string;
  trustDomain?: string;
}

export function controllerCommand(): Command {
  const env = process.env;
  return new Command("controller")
    .description(
      "run the controller: reconcile Canaries, serve the telemetry stream, the HTTP API, dashboard and /metrics",
    )
    .exitOverride()
    .showHelpAfterError()
    .option("--kubeconfig <path>", "kubeconfig file (env KUBECONFIG)", env.KUBECONFIG)
    .option("--context <name>", "kubeconfig context")
    .option("--in-cluster", "use the pod's service account (default inside a pod)")
    .option(
      "--namespace <ns>",
      "watch only this namespace (env MESHCANARY_NAMESPACE); default all",
      env.MESHCANARY_NAMESPACE,
    )
    .option("--bind <address>", "address both listeners bind; default 0.0.0.0 in-cluster, else 127.0.0.1")
    .option("--telemetry-port <port>", "telemetry gRPC port (filters stream here)", "9090")
    .option(
      "--telemetry-identity <mode>",
      "how reporters are identified: mesh (x-forwarded-client-cert from the Istio sidecar), credentials (issued per proxy, env MESHCANARY_REPORTER_SECRET) or none; default mesh in-cluster, else none",
      env.MESHCANARY_TELEMETRY_IDENTITY,
    )
    .option("--trust-domain <domain>", "mesh mode: the only SPIFFE trust domain accepted (default any)")
    .option("--http-port <port>", "HTTP port: API, dashboard, /metrics, /healthz, /readyz", "8080")
    .option(
      "--api-token-file <path>",
      "file holding a shared API write token (else env MESHCANARY_API_TOKEN) instead of Kubernetes authentication: no per-user identity",
    )
    .option("--leader-elect", "elect a leader on a Lease (needed with more than one replica)")
    .option("--no-leader-elect", "run without leader election (the default)")
    .option(
      "--lease-namespace <ns>",
      "namespace of the leader Lease (default env POD_NAMESPACE, else meshcanary-system)",
    )
    .option("--lease-name <name>", "leader Lease name", "meshcanary-controller")
    .option("--lease-duration <seconds>", "leader lease duration", "15")
    .option("--tick <ms>", "reconcile interval", "1000")
    .option("--log-level <level>", "pino log level", env.LOG_LEVEL ?? "info")
    .action(async (flags: ControllerFlags) => {
      const logger = pino({ level: flags.logLevel });
      const options = controllerOptions(flags, process.env, (path) => readFileSync(path, "utf8"));
      const controller = await startController({ ...options, logger });
      logger.info(
        {
          telemetryPort: controller.telemetryPort,
          apiPort: controller.apiPort,
          apiAuth: options.api?.kubernetesAuth ? "kubernetes" : "shared-token",
        },
        "controller started",
      );
      await new Promise<void>((resolve) => {
        process.once("SIGTERM", () => resolve());
        process.once("SIGINT", () => resolve());
      });
      await controller.close();
    });
}

/**
 * Flags plus environment (POD_NAME, POD_NAMESPACE, KUBERNETES_SERVICE_HOST, MESHCANARY_TOKEN,
 * MESHCANARY_API_TOKEN) → controller options. Throws a usage CliError naming the bad flag.
 */
export function controllerOptions(
  flags: ControllerFlags,
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string,
): ControllerOptions {
  const inCluster = flags.inCluster ?? env.KUBERNETES_SERVICE_HOST !== undefined;
  const host = flags.bind ?? (inCluster ? "0.0.0.0" : "127.0.0.1");
  const writeToken = apiToken(flags.apiTokenFile, env, readFile);
  const telemetryToken = nonEmpty(env.MESHCANARY_TOKEN);
  refusePlaceholder("MESHCANARY_TOKEN", telemetryToken);
  refusePlaceholder(flags.apiTokenFile ? "--api-token-file" : "MESHCANARY_API_TOKEN", writeToken);
  const identity = telemetryIdentity(flags.telemetryIdentity, inCluster, flags.trustDomain, env);
  return {
    ...(inCluster
      ? { inCluster: true }
      : {
          ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
          ...(flags.context !== undefined ? { context: flags.context } : {}),
        }),
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    telemetry: {
      host,
      port: port("--telemetry-port", flags.telemetryPort),
      ...(telemetryToken !== undefined ? { token: telemetryToken } : {}),
      identity,
    },
    api: {
      host,
      port: port("--http-port", flags.httpPort),
      // Callers' own Kubernetes identities unless a shared token was chosen explicitly.
      ...(writeToken !== undefined ? { writeToken } : { kubernetesAuth: true }),
    },
    leaderElection: {
      enabled: flags.leaderElect === true,
      namespace: flags.leaseNamespace ?? nonEmpty(env.POD_NAMESPACE) ?? "meshcanary-system",
      name: flags.leaseName,
      // Pod names are unique; elsewhere a random suffix keeps two local processes apart.
      identity: nonEmpty(env.POD_NAME) ?? `${hostname()}-${randomBytes(3).toString("hex")}`,
      leaseDurationSeconds: positiveInteger("--lease-duration", flags.leaseDuration),
    },
    tickMs: positiveInteger("--tick", flags.tick),
  };
}

/** The write token: from --api-token-file, else MESHCANARY_API_TOKEN; undefined = read-only API. */
function apiToken(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string,
): string | undefined {
  if (file === undefined) return nonEmpty(env.MESHCANARY_API_TOKEN);
  let text: string;
  try {
    text = readFile(file);
  } catch (e) {
    throw new CliError(
      `--api-token-file: cannot read ${JSON.stringify(file)}: ${(e as Error).message}`,
      EXIT.usage,
    );
  }
  const token = text.trim();
  if (token === "" || /\s/.test(token))
    throw new CliError(
      `--api-token-file: ${JSON.stringify(file)} must hold one token without spaces, got ${token === "" ? "an empty file" : "whitespace inside"}`,
      EXIT.usage,
    );
  return token;
}

/** Throws a usage error when `value` of `field` is a placeholder from a manifest or doc. */
function refusePlaceholder(field: string, value: string | undefined): void {
  const why = value === undefined ? null : placeholderSecret(field, value);
  if (why) throw new CliError(why, EXIT.usage);
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === "" ? undefined : v;
}

function port(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < 0 || n > 65535)
    throw new CliError(`${flag}: expected a port number 0..65535, got ${JSON.stringify(text)}`, EXIT.usage);
  return n;
}

function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n <= 0)
    throw new CliError(`${flag}: expected a positive integer, got ${JSON.stringify(text)}`, EXIT.usage);
  return n;
}
