/**
 * The `meshcanary` command line. Each subcommand lives in its own module; this file only wires
 * them into commander and maps outcomes to exit codes scripts can rely on:
 * 0 ok, 1 operation failed, 2 usage error, 3 not found.
 */
import { Command, CommanderError } from "commander";

export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3 } as const;

function program(): Command {
  const cli = new Command("meshcanary")
    .description("Canary and progressive delivery for Istio/Envoy, decided inside the proxy")
    .exitOverride()
    .showHelpAfterError();
  cli
    .command("demo")
    .description("run a whole canary release on this machine (sandbox: no cluster, no Docker)")
    .action(() => {
      console.log("meshcanary demo: not yet — the sandbox demo lands with the sandbox issue.");
    });
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    console.error(`meshcanary: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
}
