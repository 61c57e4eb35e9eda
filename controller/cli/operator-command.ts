/**
 * `promote [--full]`, `approve`, `pause`, `resume`, `abort`, `retry`, `undo <name>`: each writes the
 * command annotation with a fresh nonce, which the controller applies once at its next reconcile
 * (controller/app/command.ts). A command that cannot apply in the Canary's current phase is refused
 * before anything is written; otherwise the CLI waits (bounded by --timeout) until the controller
 * reports in status.commandResult what it did or why it refused, and exits 0 only when applied.
 */
import type { Command } from "commander";
import { type CanaryObject, getCanary, requestCommand } from "../kube/canaries.js";
import { commandRefusal } from "../rollout/commands.js";
import type { Command as RolloutCommand } from "../rollout/types.js";
import type { CanaryStatus, CommandResult } from "../spec/schema.js";
import { parseDuration } from "../spec/durations.js";
import { CliError, EXIT } from "./exit.js";
import { addKubeOptions, type KubeTargetOptions, kubeFailure, kubeTarget } from "./kube-target.js";
import { pollCanary } from "./poll-canary.js";

const DESCRIPTIONS: Record<Exclude<RolloutCommand, "promote-full">, string> = {
  promote:
    "complete the current step without its gate and go to the next (--full: skip every remaining step)",
  approve: "let a rollout waiting for approval leave its step",
  pause: "hold a progressing rollout at its current weight",
  resume: "continue a rollout paused with `pause`",
  abort: "stop the rollout and send all traffic back to stable",
  retry: "start a rolled-back or aborted rollout again from step 1",
  undo: "after a promotion, send all traffic back to the stable subset",
};

interface OperatorOptions extends KubeTargetOptions {
  full?: boolean;
  wait: boolean;
  timeout: string;
}

export function registerOperatorCommands(cli: Command): void {
  for (const [name, description] of Object.entries(DESCRIPTIONS)) {
    const command = addKubeOptions(cli.command(name))
      .description(description)
      .argument("<canary>", "name of the Canary")
      .option("--no-wait", "return once the command is recorded, without waiting for the controller")
      .option("--timeout <duration>", "how long to wait for the controller's answer", "30s");
    if (name === "promote")
      command.option("--full", "skip every remaining step and switch 100% to the canary");
    command.action(async (canary: string, options: OperatorOptions) => {
      const wanted = name === "promote" && options.full ? "promote-full" : (name as RolloutCommand);
      await requestOperatorCommand(wanted, canary, options);
    });
  }
}

async function requestOperatorCommand(command: RolloutCommand, name: string, options: OperatorOptions) {
  const timeout = parseDuration(options.timeout);
  if (!timeout.ok) throw new CliError(`--timeout: ${timeout.error}`, EXIT.usage);
  const { kc, namespace } = kubeTarget(options);
  const what = `canary ${namespace}/${name}`;
  const current = await getCanary(kc, namespace, name);
  if (!current.ok) throw kubeFailure(kc, current.error, what);
  const refusal = commandRefusal(command, phaseOf(current.value));
  if (refusal !== undefined) throw new CliError(`${what}: refused: ${refusal}`, EXIT.failed);

  const written = await requestCommand(kc, namespace, name, command);
  if (!written.ok) throw kubeFailure(kc, written.error, what);
  const value = written.value.value;
  if (!options.wait) {
    process.stdout.write(`${what}: ${command} requested (meshcanary.io/command: ${value})\n`);
    return;
  }
  const answered = await pollCanary(kc, namespace, name, (c) => resultFor(c, value), {
    timeoutMs: timeout.ms,
  });
  switch (answered.kind) {
    case "met":
      if (answered.value.result === "Applied") {
        process.stdout.write(`${what}: ${command} applied: ${answered.value.message}\n`);
        return;
      }
      throw new CliError(
        `${what}: ${command} refused by the controller: ${answered.value.message}`,
        EXIT.failed,
      );
    case "timeout":
      throw new CliError(
        `${what}: ${command} recorded (${value}) but the controller has not answered within ${options.timeout}; it stays pending (see \`meshcanary status ${name}\`) — is the controller running?`,
        EXIT.timeout,
      );
    case "notFound":
      throw new CliError(`${what} was deleted before the controller answered`, EXIT.notFound);
    case "lost":
      throw new CliError(
        `${what}: ${command} recorded (${value}); then ${describeLost(answered)}`,
        EXIT.apiLost,
      );
  }
}

/** The controller's answer to the command written as `value`, once status carries it. */
function resultFor(canary: CanaryObject, value: string): CommandResult | undefined {
  const status = (canary.status ?? {}) as CanaryStatus;
  return status.commandResult?.command === value ? status.commandResult : undefined;
}

function phaseOf(canary: CanaryObject) {
  const status = (canary.status ?? {}) as CanaryStatus;
  return { phase: status.phase ?? "Initializing", pausedBy: status.pausedBy, weightBp: status.weightBp ?? 0 };
}

function describeLost(outcome: { error: string }): string {
  return `lost the connection to the Kubernetes API: ${outcome.error}`;
}
