// Where a Canary's own pin-token key lives: the environment variable
// MESHCANARY_PIN_SECRET__<NAMESPACE>__<NAME> (upper-cased, every character other than A-Z and 0-9
// written as "_"). One secret per Canary lets an operator revoke every token of that Canary, and
// only that Canary, by rotating it; routes without one use the filter-wide `pinSecretEnv`.
// The TypeScript twin is pinSecretEnvName in controller/security/pin-token.ts.

/** Prefix of every per-Canary pin secret variable. */
export const PIN_SECRET_ENV_PREFIX = "MESHCANARY_PIN_SECRET__";

/** The environment variable holding the pin-token key of canary "<namespace>/<name>". */
export function pinSecretEnvName(canary: string): string {
  const slash = canary.indexOf("/");
  return PIN_SECRET_ENV_PREFIX + envPart(canary.substring(0, slash)) + "__" + envPart(canary.substring(slash + 1));
}

function envPart(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    const keep = (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
    out += keep ? String.fromCharCode(c) : "_";
  }
  return out;
}
