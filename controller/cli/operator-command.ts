/**
 * `promote`, `approve`, `pause`, `resume`, `abort <name>`: each writes the command annotation with a
 * fresh nonce; the controller applies it once at its next reconcile (controller/app/command.ts).
 */
import type { Command } from "commander";
import { requestCommand } from "../kube/canaries.js";
import type { Command as RolloutCommand } from "../rollout/types.js";
import { addKubeOptions, type KubeTargetOptions, kubeFailure, kubeTarget } from "./kube-target.js";

const DESCRIPTIONS: Record<RolloutCommand, string> = {
  promote: "skip the remaining steps and analysis and switch all traffic to the canary",
  approve: "let a rollout waiting for approval leave its step",
  pause: "hold a progressing rollout at its current weight",
  resume: "continue a rollout paused with `pause`",
  abort: "stop the rollout and send all traffic back to stable",
};

export function registerOperatorCommands(cli: Command): void {
  for (const [name, description] of Object.entries(DESCRIPTIONS)) {
    addKubeOptions(cli.command(name))
      .description(description)
      .argument("<canary>", "name of the Canary")
      .action(async (canary: string, options: KubeTargetOptions) => {
        await requestOperatorCommand(name as RolloutCommand, canary, options);
      });
  }
}

async function requestOperatorCommand(command: RolloutCommand, name: string, options: KubeTargetOptions) {
  const { kc, namespace } = kubeTarget(options);
  const what = `canary ${namespace}/${name}`;
  const written = await requestCommand(kc, namespace, name, command);
  if (!written.ok) throw kubeFailure(kc, written.error, what);
  process.stdout.write(
    `${what}: ${command} requested (meshcanary.io/command: ${written.value.value}); the controller applies it at its next reconcile\n`,
  );
}
