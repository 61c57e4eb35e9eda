/** Validation of analysis checks: every problem named by its field path and value. */

import type { Check } from "./checks.js";

function positive(v: unknown): boolean {
  return typeof v === "number" && Number.isFinite(v) && v > 0;
}

function share(v: unknown): boolean {
  return typeof v === "number" && v > 0 && v < 1;
}

function optional(path: string, v: unknown, ok: (v: unknown) => boolean, want: string): string | undefined {
  return v === undefined || ok(v) ? undefined : `${path}: must be ${want}, got ${JSON.stringify(v)}`;
}

function kindErrors(c: Check, path: string): (string | undefined)[] {
  switch (c.kind) {
    case "failureRate":
      return [
        optional(`${path}.max`, c.max, share, "a share in (0, 1)"),
        optional(`${path}.maxRatio`, c.maxRatio, positive, "a positive number"),
        optional(`${path}.maxIncrease`, c.maxIncrease, share, "a share in (0, 1)"),
        c.max === undefined && c.maxRatio === undefined && c.maxIncrease === undefined
          ? `${path}: needs at least one of max, maxRatio, maxIncrease`
          : undefined,
      ];
    case "latency":
      return [
        share(c.quantile)
          ? undefined
          : `${path}.quantile: must be in (0, 1), got ${JSON.stringify(c.quantile)}`,
        optional(`${path}.maxMs`, c.maxMs, positive, "a positive number"),
        optional(`${path}.maxRatio`, c.maxRatio, positive, "a positive number"),
        c.maxMs === undefined && c.maxRatio === undefined ? `${path}: needs maxMs or maxRatio` : undefined,
      ];
    case "metricPerRequest":
      return [
        c.metric ? undefined : `${path}.metric: must be a metric name`,
        positive(c.maxRatio) ? undefined : `${path}.maxRatio: must be a positive number, got ${c.maxRatio}`,
        optional(`${path}.quantile`, c.quantile, share, "in (0, 1)"),
      ];
    case "metricMean":
      return [
        c.metric ? undefined : `${path}.metric: must be a metric name`,
        positive(c.maxRatio) ? undefined : `${path}.maxRatio: must be a positive number, got ${c.maxRatio}`,
      ];
    case "metricShare":
      return [
        c.metric ? undefined : `${path}.metric: must be a metric name`,
        optional(`${path}.max`, c.max, share, "a share in (0, 1)"),
        optional(`${path}.maxRatio`, c.maxRatio, positive, "a positive number"),
        c.max === undefined && c.maxRatio === undefined ? `${path}: needs max or maxRatio` : undefined,
      ];
    case "metricRate":
      return [
        c.metric ? undefined : `${path}.metric: must be a metric name`,
        positive(c.maxPerMinute)
          ? undefined
          : `${path}.maxPerMinute: must be a positive number, got ${JSON.stringify(c.maxPerMinute)}`,
      ];
    default:
      return [`${path}.kind: unknown check kind ${JSON.stringify((c as { kind: unknown }).kind)}`];
  }
}

/** All problems with a list of checks, each naming the field path and value; empty when valid. */
export function validateChecks(checks: readonly Check[], path = "checks"): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  checks.forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!c.name) errors.push(`${p}.name: must be a non-empty string`);
    else if (seen.has(c.name)) errors.push(`${p}.name: duplicate check name ${JSON.stringify(c.name)}`);
    seen.add(c.name);
    const sustained = optional(
      `${p}.sustainedForMs`,
      c.sustainedForMs,
      (v) => typeof v === "number" && v >= 0,
      "≥ 0",
    );
    for (const e of [sustained, ...kindErrors(c, p)]) if (e) errors.push(e);
  });
  return errors;
}
