/**
 * The `meshcanary` command line. Each subcommand lives in its own module; this file only wires
 * them into commander and maps outcomes to the exit codes of exit.ts.
 */
import { Command, CommanderError } from "commander";
import { controllerCommand } from "./controller-command.js";
import { registerDashboardCommand } from "./dashboard-command.js";
import { CliError, EXIT } from "./exit.js";
import { registerOperatorCommands } from "./operator-command.js";
import { registerPinToken } from "./pin-token-command.js";
import { registerRenderCommand } from "./render-command.js";
import { registerReporterCredential } from "./reporter-credential-command.js";
import { registerStatusCommand } from "./status-command.js";
import { packageVersion } from "./version.js";
import { registerValidateCommand } from "./validate-command.js";
import { registerWaitCommand } from "./wait-command.js";

export { EXIT };

function program(extra: readonly Command[]): Command {
  const cli = new Command("meshcanary")
    .description("Canary and progressive delivery for Istio/Envoy, decided inside the proxy")
    .version(packageVersion(), "-V, --version", "print the version")
    .exitOverride()
    .showHelpAfterError();
  registerStatusCommand(cli);
  registerWaitCommand(cli);
  registerOperatorCommands(cli);
  registerRenderCommand(cli);
  registerValidateCommand(cli);
  registerPinToken(cli);
  registerDashboardCommand(cli);
  registerReporterCredential(cli);
  for (const command of extra) cli.addCommand(command);
  cli.addCommand(controllerCommand());
  return cli;
}

/**
 * Runs the CLI. `extra` adds commands from outside the controller (the sandbox's `demo`, wired in
 * by sandbox/cli.ts), so controller/ never depends on sandbox/.
 */
export async function main(argv: string[], extra: readonly Command[] = []): Promise<number> {
  try {
    await program(extra).parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`meshcanary: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    console.error(`meshcanary: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
}
