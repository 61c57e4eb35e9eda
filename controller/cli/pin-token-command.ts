/**
 * `meshcanary pin-token`: issues a signed pin token for routes with `pins.requireToken`. The token
 * goes to stdout alone (so `TOKEN=$(meshcanary pin-token ...)` works); its expiry and a curl
 * example go to stderr. The secret is never printed.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { issuePinToken, pinSecretEnvName } from "../security/pin-token.js";
import { parseDuration } from "../spec/durations.js";
import { CliError, EXIT } from "./exit.js";

/** The env var the filter's `pinSecretEnv` conventionally names. */
export const DEFAULT_SECRET_ENV = "MESHCANARY_PIN_SECRET";

/** Options of `meshcanary pin-token`. */
export interface PinTokenOptions {
  /** The Canary the token is for, "<namespace>/<name>". */
  canary: string;
  /** The Canary's spec.host: the token works on that host only. */
  host: string;
  /** Variant to pin. */
  variant: string;
  /** Lifetime as a duration ("30m", "1h"). */
  ttl: string;
  /** Env var holding the secret (default: the Canary's own variable if set, else MESHCANARY_PIN_SECRET). */
  secretEnv?: string;
  /** File holding the secret (one trailing newline is dropped). */
  secretFile?: string;
  /** Pin header for the curl example. */
  header?: string;
}

/** What the command needs from the process, so tests can give it their own. */
export interface PinTokenIo {
  env: Record<string, string | undefined>;
  readFile: (path: string) => string;
  nowSeconds: number;
}

/** The token and the lines for stderr, or an error naming the option at fault. */
export type PinTokenResult =
  | { ok: true; token: string; expiresAt: number; notes: string[] }
  | { ok: false; error: string; usage: boolean };

function fail(error: string, usage: boolean): PinTokenResult {
  return { ok: false, error, usage };
}

/** The secret from --secret-file or --secret-env (default env var), or why there is none. */
function readSecret(
  opts: PinTokenOptions,
  io: PinTokenIo,
): { secret: string } | { error: string; usage: boolean } {
  if (opts.secretEnv !== undefined && opts.secretFile !== undefined) {
    return { error: "--secret-env and --secret-file are mutually exclusive", usage: true };
  }
  if (opts.secretFile !== undefined) {
    let text: string;
    try {
      text = io.readFile(opts.secretFile);
    } catch (err) {
      return {
        error: `--secret-file: cannot read ${opts.secretFile}: ${(err as Error).message}`,
        usage: false,
      };
    }
    // Editors and `echo` add a newline the filter's env var would not have.
    const secret = text.replace(/\r?\n$/, "");
    if (secret.length === 0) return { error: `--secret-file: ${opts.secretFile} is empty`, usage: false };
    return { secret };
  }
  // The filter prefers the Canary's own secret, so the CLI does too.
  const own = pinSecretEnvName(opts.canary);
  const name = opts.secretEnv ?? (io.env[own] ? own : DEFAULT_SECRET_ENV);
  const secret = io.env[name];
  if (secret === undefined || secret.length === 0) {
    return { error: `--secret-env: environment variable ${name} is unset or empty`, usage: false };
  }
  return { secret };
}

/** Issues the token for `opts` (pure apart from `io`). */
export function runPinToken(opts: PinTokenOptions, io: PinTokenIo): PinTokenResult {
  const ttl = parseDuration(opts.ttl);
  if (!ttl.ok) return fail(`--ttl: ${ttl.error}`, true);
  if (ttl.ms <= 0) return fail(`--ttl: must be positive, got ${JSON.stringify(opts.ttl)}`, true);
  const s = readSecret(opts, io);
  if ("error" in s) return fail(s.error, s.usage);
  const scope = { canary: opts.canary, host: opts.host };
  const issued = issuePinToken(scope, opts.variant, ttl.ms / 1000, s.secret, io.nowSeconds);
  if (!issued.ok) return fail(`--${issued.error}`, true);
  const header = opts.header ?? "x-meshcanary-pin";
  const notes = [
    `for canary ${opts.canary} on host ${opts.host}; expires ${new Date(issued.expiresAt * 1000).toISOString()}`,
    `curl -H '${header}: ${issued.token}' http://${opts.host}/`,
  ];
  return { ok: true, token: issued.token, expiresAt: issued.expiresAt, notes };
}

/** Adds `pin-token` to the CLI. */
export function registerPinToken(cli: Command): void {
  cli
    .command("pin-token")
    .description("issue a signed pin token for one Canary and host (for canaries with pins.requireToken)")
    .requiredOption("--canary <namespace/name>", "the Canary the token is for")
    .requiredOption("--host <host>", "the Canary's spec.host; the token works there only")
    .requiredOption("--variant <name>", "variant to pin, e.g. canary")
    .requiredOption("--ttl <duration>", "lifetime, e.g. 30m or 1h")
    .option(
      "--secret-env <name>",
      `env var holding the secret (default: the Canary's MESHCANARY_PIN_SECRET__<NS>__<NAME> if set, else ${DEFAULT_SECRET_ENV})`,
    )
    .option("--secret-file <path>", "file holding the secret")
    .option("--header <name>", "pin header for the curl example (default x-meshcanary-pin)")
    .action((opts: PinTokenOptions) => {
      const r = runPinToken(opts, {
        env: process.env,
        readFile: (p) => readFileSync(p, "utf8"),
        nowSeconds: Date.now() / 1000,
      });
      if (!r.ok) throw new CliError(r.error, r.usage ? EXIT.usage : EXIT.failed);
      process.stdout.write(`${r.token}\n`);
      for (const line of r.notes) process.stderr.write(`${line}\n`);
    });
}
