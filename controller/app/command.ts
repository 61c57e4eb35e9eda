/**
 * Operator commands arrive as the Canary annotation `meshcanary.io/command: "<command>/<nonce>"`;
 * status.lastCommand records the last one handled so each is applied once.
 */
import { COMMANDS, type Command } from "../rollout/types.js";

/** What the annotation asks for: nothing new, a command, or an unusable value (still consumed once). */
export type PendingCommand =
  | { kind: "none" }
  | { kind: "command"; command: Command; value: string }
  | { kind: "invalid"; value: string; error: string };

export function pendingCommand(
  annotation: string | undefined,
  lastHandled: string | undefined,
): PendingCommand {
  if (annotation === undefined || annotation === lastHandled) return { kind: "none" };
  const slash = annotation.indexOf("/");
  const name = slash < 0 ? annotation : annotation.slice(0, slash);
  const nonce = slash < 0 ? "" : annotation.slice(slash + 1);
  if (!COMMANDS.includes(name as Command) || nonce === "") {
    const error = `metadata.annotations["meshcanary.io/command"]: expected "<${COMMANDS.join("|")}>/<nonce>", got ${JSON.stringify(annotation)}`;
    return { kind: "invalid", value: annotation, error };
  }
  return { kind: "command", command: name as Command, value: annotation };
}
