/** A duration flag's value in ms, or a usage error naming the flag and the value. */
import { parseDuration } from "../spec/durations.js";
import { CliError, EXIT } from "./exit.js";

export function positiveDurationOption(flag: string, text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new CliError(`${flag}: ${parsed.error}`, EXIT.usage);
  if (parsed.ms <= 0) throw new CliError(`${flag}: must be above 0, got ${JSON.stringify(text)}`, EXIT.usage);
  return parsed.ms;
}
