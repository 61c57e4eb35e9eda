/**
 * `meshcanary dashboard`: opens the dashboard with the user's kubeconfig credentials. A local proxy
 * (dashboard-proxy.ts) reaches the controller through the API server's service proxy, so nothing
 * has to be exposed, and the controller authorises each action as the user (TokenReview +
 * SubjectAccessReview). Runs until interrupted.
 */
import { spawn } from "node:child_process";
import type { Command } from "commander";
import { CliError, EXIT } from "./exit.js";
import { startDashboardProxy } from "./dashboard-proxy.js";
import { addKubeOptions, type KubeTargetOptions, kubeTarget } from "./kube-target.js";

interface DashboardOptions extends KubeTargetOptions {
  service: string;
  servicePort: string;
  port: string;
  url?: string;
  open: boolean;
}

/** Opens `url` in the desktop's browser, if there is one; failure only means the user opens it. */
function openBrowser(url: string): void {
  const command =
    process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  const child = spawn(command, [url], { stdio: "ignore", detached: true });
  child.on("error", () => {});
  child.unref();
}

export function registerDashboardCommand(cli: Command): void {
  addKubeOptions(
    cli
      .command("dashboard")
      .description(
        "open the dashboard as yourself: a local proxy to the controller through the Kubernetes API server",
      )
      .option("--service <name>", "the controller's Service", "meshcanary-controller")
      .option("--service-port <port>", "its HTTP port (number or name)", "8080")
      .option("--port <port>", "local port (0: any free one)", "8001")
      .option(
        "--url <url>",
        "reach the controller at this URL instead of through the API server (e.g. a kubectl port-forward)",
      )
      .option("--no-open", "print the URL without opening a browser"),
  ).action(async (opts: DashboardOptions) => {
    const { kc, namespace } = kubeTarget({ ...opts, namespace: opts.namespace ?? "meshcanary-system" });
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new CliError(
        `--port: expected a port number 0..65535, got ${JSON.stringify(opts.port)}`,
        EXIT.usage,
      );
    }
    let direct: URL | undefined;
    try {
      direct = opts.url !== undefined ? new URL(opts.url) : undefined;
    } catch {
      throw new CliError(`--url: not a URL: ${JSON.stringify(opts.url)}`, EXIT.usage);
    }
    const proxy = await startDashboardProxy({
      kc,
      service: { namespace, name: opts.service, port: opts.servicePort },
      ...(direct ? { direct } : {}),
      port,
    }).catch((e: Error) => {
      throw new CliError(`--port: cannot listen on 127.0.0.1:${port}: ${e.message}`, EXIT.failed);
    });
    process.stdout.write(`dashboard: ${proxy.url} (as the kubeconfig user; Ctrl-C stops it)\n`);
    if (opts.open) openBrowser(proxy.url);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    await proxy.close();
  });
}
