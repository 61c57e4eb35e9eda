/** Go-style durations ("30s", "1m30s", "500ms", "2h"), as Kubernetes users write them. */

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Parses a duration such as "1m30s" into milliseconds; the error names the bad value. */
export function parseDuration(text: string): DurationResult {
  const bad = (): DurationResult => ({
    ok: false,
    error: `invalid duration ${JSON.stringify(text)}: expected e.g. "500ms", "30s", "1m30s", "2h"`,
  });
  if (text === "0") return { ok: true, ms: 0 };
  if (text.length === 0) return bad();
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (match === null) return bad();
    ms += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return { ok: true, ms: Math.round(ms) };
}

/** Parses a duration that validation has already accepted; a bad value here is a programming error. */
export function durationMs(text: string): number {
  const result = parseDuration(text);
  if (!result.ok) throw new Error(result.error);
  return result.ms;
}
