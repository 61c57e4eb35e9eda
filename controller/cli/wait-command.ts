/**
 * `wait <name> --for <phase> --timeout 30m`, for pipelines: returns when the Canary is in the phase,
 * with an exit code per outcome (exit.ts): 0 reached, 1 ended in another terminal phase (printed),
 * 3 not found or deleted, 4 timed out (prints where it stands), 5 the API connection lost.
 */
import { type Command, Option } from "commander";
import { revisionOf } from "../app/revision.js";
import { COMMAND_ANNOTATION, type CanaryObject } from "../kube/canaries.js";
import { TERMINAL_PHASES } from "../rollout/commands.js";
import { parseDuration } from "../spec/durations.js";
import { type CanaryStatus, PHASES, type Phase } from "../spec/schema.js";
import { validateCanary } from "../spec/validate.js";
import { positiveDurationOption } from "./duration-option.js";
import { CliError, EXIT } from "./exit.js";
import { addKubeOptions, type KubeTargetOptions, kubeTarget } from "./kube-target.js";
import { pollCanary } from "./poll-canary.js";

interface WaitOptions extends KubeTargetOptions {
  for: Phase;
  timeout: string;
  /** How long the API may stay unreachable before exit 5. */
  lostAfter: string;
}

export function registerWaitCommand(cli: Command): void {
  addKubeOptions(cli.command("wait"))
    .description(
      "wait until a Canary reaches a phase (exit 0), another terminal phase (1) or the timeout (4)",
    )
    .argument("<canary>", "name of the Canary")
    .addOption(new Option("--for <phase>", "phase to wait for").choices(PHASES).default("Succeeded"))
    .option("--timeout <duration>", "give up after this long, e.g. 30m", "10m")
    .option("--lost-after <duration>", "exit 5 once the API is unreachable this long", "15s")
    .action(async (name: string, options: WaitOptions) => {
      const timeout = parseDuration(options.timeout);
      if (!timeout.ok) throw new CliError(`--timeout: ${timeout.error}`, EXIT.usage);
      const lostAfterMs = positiveDurationOption("--lost-after", options.lostAfter);
      const { kc, namespace } = kubeTarget(options);
      const what = `canary ${namespace}/${name}`;
      const ended = await pollCanary(kc, namespace, name, (c) => settled(c, options.for), {
        timeoutMs: timeout.ms,
        intervalMs: 1000,
        lostAfterMs,
      });
      switch (ended.kind) {
        case "met": {
          const status = statusOf(ended.canary);
          const line = `${what}: ${status.phase ?? "Initializing"}: ${status.message ?? ""}`;
          if (ended.value === "reached") {
            process.stdout.write(`${line}\n`);
            return;
          }
          throw new CliError(`${line} (waited for ${options.for})`, EXIT.failed);
        }
        case "timeout": {
          const status = ended.canary ? statusOf(ended.canary) : {};
          const where = `${status.phase ?? "Initializing"}: ${status.message ?? ""}`;
          throw new CliError(
            `${what}: not ${options.for} after ${options.timeout}; now ${where}`,
            EXIT.timeout,
          );
        }
        case "notFound":
          throw new CliError(`${what} not found (or deleted while waiting)`, EXIT.notFound);
        case "lost":
          throw new CliError(
            `${what}: lost the connection to the Kubernetes API: ${ended.error}`,
            EXIT.apiLost,
          );
      }
    });
}

/**
 * "reached" in the wanted phase, "ended" in another terminal one, else undefined (keep waiting).
 * A status the controller has not brought up to date yet (a spec edit, a new revision or a command
 * it has not handled) is not taken as an answer: right after a release is started, the status still
 * shows the previous rollout's end.
 */
export function settled(canary: CanaryObject, wanted: Phase): "reached" | "ended" | undefined {
  if (!current(canary)) return undefined;
  const phase = statusOf(canary).phase ?? "Initializing";
  if (phase === wanted) return "reached";
  return TERMINAL_PHASES.has(phase) ? "ended" : undefined;
}

function statusOf(canary: CanaryObject): CanaryStatus {
  return (canary.status ?? {}) as CanaryStatus;
}

/** Whether the status describes this version of the object: its generation, revision and last command. */
function current(canary: CanaryObject): boolean {
  const status = statusOf(canary);
  const { generation, annotations = {} } = canary.metadata;
  if (generation !== undefined && status.observedGeneration !== generation) return false;
  const command = annotations[COMMAND_ANNOTATION];
  if (command !== undefined && command !== status.lastCommand) return false;
  const { status: _status, ...object } = canary;
  const checked = validateCanary(object);
  return !checked.ok || status.revision === revisionOf(checked.canary.spec, annotations);
}
