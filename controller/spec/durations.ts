/** Go-style durations ("30s", "1m30s", "500ms", "2h"), as Kubernetes users write them. */

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Parses a duration such as "1m30s" into milliseconds; the error names the bad value. */
export function parseDuration(text: string): DurationResult {
  // A hostile value can be megabytes long; the message quotes only its start.
  const shown = JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
  const bad = (): DurationResult => ({
    ok: false,
    error: `invalid duration ${shown}: expected e.g. "500ms", "30s", "1m30s", "2h"`,
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
  if (!(ms <= MAX_DURATION_MS)) {
    return { ok: false, error: `invalid duration ${shown}: longer than Go's maximum (~292 years)` };
  }
  return { ok: true, ms: Math.round(ms) };
}

/** Go's time.Duration ceiling (2^63 - 1 ns), so nothing downstream computes with Infinity. */
const MAX_DURATION_MS = 9_223_372_036_854;

/** Parses a duration that validation has already accepted; a bad value here is a programming error. */
export function durationMs(text: string): number {
  const result = parseDuration(text);
  if (!result.ok) throw new Error(result.error);
  return result.ms;
}
