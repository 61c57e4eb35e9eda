/**
 * The header conditions a canary's owned routes (VirtualService) and rules (HTTPRoute) add, one
 * kind per route family: the variant header the filter sets (with the rollout's marker,
 * variant-match.ts), then the pin header, then the pin cookie (a regex on the Cookie header). Both
 * renderers take them from here, so the two routing objects always match the same requests.
 */
import { DEFAULT_VARIANT_HEADER, type MeshIntent } from "./types.js";
import { variantHeaderMatch, variantRouteRemovedHeaders } from "./variant-match.js";

/** One header condition of an owned route: exact value or a regular expression. */
export interface HeaderCondition {
  name: string;
  value: string;
  regex: boolean;
}

/** One family of owned routes: name suffix, the conditions per variant, headers removed upstream. */
export interface HeaderKind {
  suffix: string;
  conditions: (variant: string) => HeaderCondition[];
  removed: string[];
}

/** The families `intent` renders. */
export function headerKinds(intent: MeshIntent): HeaderKind[] {
  const variantHeader = intent.variantHeader ?? DEFAULT_VARIANT_HEADER;
  const exact = (name: string, value: string): HeaderCondition => ({ name, value, regex: false });
  const kinds: HeaderKind[] = [
    {
      suffix: "",
      conditions: (v) =>
        variantHeaderMatch(variantHeader, v, intent.marker).map((h) => exact(h.name, h.value)),
      removed: variantRouteRemovedHeaders(intent.marker),
    },
  ];
  const pinHeader = intent.pins?.header;
  if (pinHeader) kinds.push({ suffix: "pin-", conditions: (v) => [exact(pinHeader, v)], removed: [] });
  if (intent.pins?.cookie) {
    const cookie = escapeRegex(intent.pins.cookie);
    kinds.push({
      suffix: "pin-cookie-",
      conditions: (v) => [{ name: "cookie", value: `^(.*;\\s*)?${cookie}=${v}(;.*)?$`, regex: true }],
      removed: [],
    });
  }
  return kinds;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
