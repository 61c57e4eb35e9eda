/** `meshcanary controller`: runs the controller (flags, with environment fallbacks). */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { Command } from "commander";
import pino from "pino";
import { startController } from "../app/controller.js";

const env = process.env;

export function controllerCommand(): Command {
  return new Command("controller")
    .description("run the controller: reconcile Canaries, serve the telemetry stream (leader only)")
    .option("--kubeconfig <path>", "kubeconfig file (env KUBECONFIG)", env.KUBECONFIG)
    .option("--context <name>", "kubeconfig context")
    .option("--in-cluster", "use the pod's service account", env.KUBERNETES_SERVICE_HOST !== undefined)
    .option(
      "--namespace <ns>",
      "watch only this namespace (env MESHCANARY_NAMESPACE); default all",
      env.MESHCANARY_NAMESPACE,
    )
    .option(
      "--telemetry-host <host>",
      "telemetry gRPC bind address",
      env.MESHCANARY_TELEMETRY_HOST ?? "0.0.0.0",
    )
    .option("--telemetry-port <port>", "telemetry gRPC port", env.MESHCANARY_TELEMETRY_PORT ?? "9090")
    .option(
      "--telemetry-token <token>",
      "shared token filters must send (env MESHCANARY_TELEMETRY_TOKEN)",
      env.MESHCANARY_TELEMETRY_TOKEN,
    )
    .option("--no-leader-elect", "run without leader election (single replica)")
    .option(
      "--lease-namespace <ns>",
      "namespace of the leader Lease",
      env.POD_NAMESPACE ?? "meshcanary-system",
    )
    .option("--lease-name <name>", "leader Lease name", "meshcanary-controller")
    .option("--lease-duration <seconds>", "leader lease duration", "15")
    .option("--tick <ms>", "reconcile interval", "1000")
    .option("--log-level <level>", "pino log level", env.LOG_LEVEL ?? "info")
    .action(async (o) => {
      const logger = pino({ level: o.logLevel });
      const controller = await startController({
        ...(o.inCluster ? { inCluster: true } : { kubeconfig: o.kubeconfig, context: o.context }),
        namespace: o.namespace,
        telemetry: {
          host: o.telemetryHost,
          port: integer("--telemetry-port", o.telemetryPort),
          token: o.telemetryToken,
        },
        leaderElection: {
          enabled: o.leaderElect,
          namespace: o.leaseNamespace,
          name: o.leaseName,
          identity: `${env.POD_NAME ?? hostname()}-${randomBytes(3).toString("hex")}`,
          leaseDurationSeconds: integer("--lease-duration", o.leaseDuration),
        },
        tickMs: integer("--tick", o.tick),
        logger,
      });
      logger.info({ telemetryPort: controller.telemetryPort }, "controller started");
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
      await controller.close();
    });
}

function integer(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${flag}: expected a non-negative integer, got ${JSON.stringify(text)}`);
  return n;
}
