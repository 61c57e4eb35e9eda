/**
 * The rollout phases. Separate from the schema sections because both the spec (webhook `events`)
 * and the status (`phase`) name them, and the CLI, API and notifications use them too.
 */

/** Rollout phases, in the order a healthy rollout visits them. */
export const PHASES = [
  "Initializing",
  "Progressing",
  "Paused",
  "Promoting",
  "Succeeded",
  "RollingBack",
  "RolledBack",
  "Aborted",
] as const;

export type Phase = (typeof PHASES)[number];
