/**
 * `meshcanary reporter-credential`: issues the telemetry credential of one proxy for a controller
 * run with `--telemetry-identity credentials` (no mesh). The credential goes to stdout alone, for the
 * proxy's `controller.tokenEnv` variable; the secret (MESHCANARY_REPORTER_SECRET) is never printed.
 */
import type { Command } from "commander";
import { weakSecret } from "../security/placeholder-secrets.js";
import { issueReporterCredential } from "../security/reporter-credential.js";
import { CliError, EXIT } from "./exit.js";

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The credential of namespace/pod under the environment's secret; usage errors name the option. */
export function reporterCredential(
  opts: { namespace: string; pod: string },
  env: Record<string, string | undefined>,
): string {
  for (const [flag, value] of [
    ["--namespace", opts.namespace],
    ["--pod", opts.pod],
  ] as const) {
    if (!NAME.test(value))
      throw new CliError(`${flag}: expected a Kubernetes name, got ${JSON.stringify(value)}`, EXIT.usage);
  }
  const secret = env.MESHCANARY_REPORTER_SECRET?.trim() ?? "";
  if (secret === "") throw new CliError("MESHCANARY_REPORTER_SECRET: unset or empty", EXIT.usage);
  const weak = weakSecret("MESHCANARY_REPORTER_SECRET", secret);
  if (weak) throw new CliError(weak, EXIT.usage);
  return issueReporterCredential(secret, opts);
}

export function registerReporterCredential(cli: Command): void {
  cli
    .command("reporter-credential")
    .description(
      "print the telemetry credential of one proxy (controller run with --telemetry-identity credentials; secret from MESHCANARY_REPORTER_SECRET)",
    )
    .requiredOption("--namespace <ns>", "the proxy's pod namespace (its node metadata NAMESPACE)")
    .requiredOption("--pod <name>", "the proxy's pod name (its node metadata NAME)")
    .action((opts: { namespace: string; pod: string }) => {
      process.stdout.write(`${reporterCredential(opts, process.env)}\n`);
    });
}
