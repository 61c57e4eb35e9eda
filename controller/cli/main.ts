/**
 * The `meshcanary` command line. Each subcommand lives in its own module; this file only wires
 * them into commander and maps outcomes to the exit codes of exit.ts.
 */
import { Command, CommanderError } from "commander";
import { controllerCommand } from "./controller-command.js";
import { demoCommand } from "./demo-command.js";
import { CliError, EXIT } from "./exit.js";
import { registerOperatorCommands } from "./operator-command.js";
import { registerPinToken } from "./pin-token-command.js";
import { registerRenderCommand } from "./render-command.js";
import { registerStatusCommand } from "./status-command.js";
import { packageVersion } from "./version.js";
import { registerValidateCommand } from "./validate-command.js";
import { registerWaitCommand } from "./wait-command.js";

export { EXIT };

function program(): Command {
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
  cli.addCommand(demoCommand());
  cli.addCommand(controllerCommand());
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: "user" });
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
