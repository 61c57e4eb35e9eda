/**
 * Checks a MeshIntent before planning; every message names the field path and the bad value.
 */
import type { MeshIntent, MeshPlanError } from "./types.js";
import { markerError } from "./variant-match.js";

const VARIANT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Splits "<ns>/<name>"; the name scopes the routes a canary owns. */
export function canaryName(canary: string): string {
  return canary.slice(canary.indexOf("/") + 1);
}

/** Returns null when the intent is usable; `subsets` (when known) are the DestinationRule subsets of host. */
export function validateIntent(intent: MeshIntent, subsets?: readonly string[]): MeshPlanError | null {
  const invalid = (error: string): MeshPlanError => ({ error, condition: "InvalidIntent" });
  const parts = intent.canary.split("/");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    return invalid(`canary: expected "<namespace>/<name>", got "${intent.canary}"`);
  }
  if (!intent.host) return invalid(`host: must not be empty, got "${intent.host}"`);
  if (intent.variantHeader !== undefined && !HEADER_NAME.test(intent.variantHeader)) {
    return invalid(`variantHeader: not a lower-case header name, got "${intent.variantHeader}"`);
  }
  const badMarker = intent.marker !== undefined ? markerError(intent.marker) : null;
  if (badMarker) return invalid(badMarker);
  if (intent.pins?.header !== undefined && !HEADER_NAME.test(intent.pins.header)) {
    return invalid(`pins.header: not a lower-case header name, got "${intent.pins.header}"`);
  }
  if (intent.pins?.cookie !== undefined && !COOKIE_NAME.test(intent.pins.cookie)) {
    return invalid(`pins.cookie: not a cookie name, got "${intent.pins.cookie}"`);
  }
  const m = intent.mirror;
  if (m !== undefined && !(Number.isInteger(m.bp) && m.bp >= 1 && m.bp <= 10000)) {
    return invalid(`mirror.bp: must be an integer 1..10000, got ${m.bp}`);
  }
  if (m !== undefined && !intent.weights.some((w) => w.variant === m.from)) {
    return invalid(`mirror.from: no variant "${m.from}" in weights`);
  }
  const weightsError = validateWeights(intent);
  if (weightsError) return invalid(weightsError);
  return subsetsError(intent, subsets);
}

function validateWeights(intent: MeshIntent): string | null {
  if (!intent.active) return null;
  if (intent.weights.length === 0) return "weights: needs at least one variant, got []";
  const seen = new Set<string>();
  let total = 0;
  for (const [i, w] of intent.weights.entries()) {
    if (!VARIANT_NAME.test(w.variant) || w.variant.length > 63) {
      return `weights[${i}].variant: must match ${VARIANT_NAME.source} (≤ 63 chars), got "${w.variant}"`;
    }
    if (seen.has(w.variant)) return `weights[${i}].variant: duplicate variant "${w.variant}"`;
    seen.add(w.variant);
    if (!w.subset) return `weights[${i}].subset: must not be empty, got "${w.subset}"`;
    if (!Number.isInteger(w.weightBp) || w.weightBp < 0 || w.weightBp > 10000) {
      return `weights[${i}].weightBp: must be an integer 0..10000, got ${w.weightBp}`;
    }
    total += w.weightBp;
  }
  if (total !== 10000) return `weights: weightBp must sum to 10000, got ${total}`;
  // Variant routes are "<prefix><variant>", pin routes "<prefix>pin-[cookie-]<variant>": keep names apart.
  const clash = intent.weights.find((w) => w.variant.startsWith("pin-") || w.variant.startsWith("cookie-"));
  if (clash && intent.pins) return `weights: variant "${clash.variant}" clashes with pin route names`;
  return null;
}

function subsetsError(intent: MeshIntent, subsets?: readonly string[]): MeshPlanError | null {
  if (!subsets) return null;
  const wanted: Array<[string, string]> = intent.active
    ? [
        ...intent.weights.map((w, i): [string, string] => [`weights[${i}].subset`, w.subset]),
        ...(intent.mirror ? [["mirror.subset", intent.mirror.subset] as [string, string]] : []),
      ]
    : intent.finalSubset !== undefined
      ? [["finalSubset", intent.finalSubset]]
      : [];
  for (const [path, subset] of wanted) {
    if (!subsets.includes(subset)) {
      const have = subsets.length ? subsets.join(", ") : "none";
      return {
        error: `${path}: subset "${subset}" is not defined by any DestinationRule for host ${intent.host} (defined: ${have})`,
        condition: "SubsetMissing",
      };
    }
  }
  return null;
}
