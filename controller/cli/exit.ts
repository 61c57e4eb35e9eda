/**
 * Exit codes scripts can rely on, and the error a command throws to end with one of them:
 * 0 ok, 1 failed (incl. a command refused, or `wait` seeing another terminal phase), 2 usage,
 * 3 not found (or deleted while waiting), 4 timed out waiting, 5 Kubernetes API connection lost.
 * main.ts catches CliError, prints its message and returns its code.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, timeout: 4, apiLost: 5 } as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A command's failure: the message for stderr and the exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = "CliError";
  }
}
