/**
 * The header conditions a canary's owned routes (VirtualService) and rules (HTTPRoute) add, one
 * kind per route family: the variant header the filter sets, then the pin header, then the pin
 * cookie (a regex on the Cookie header). Both renderers take them from here, so the two routing
 * objects always match the same requests.
 */
import { DEFAULT_VARIANT_HEADER, type MeshIntent } from "./types.js";

/** One family of owned routes: name suffix, header to match, its value per variant, regex or exact. */
export interface HeaderKind {
  suffix: string;
  header: string;
  value: (variant: string) => string;
  regex: boolean;
}

/** The families `intent` renders; `variantValue` gives the variant header's value for a variant. */
export function headerKinds(intent: MeshIntent, variantValue: (variant: string) => string): HeaderKind[] {
  const kinds: HeaderKind[] = [
    { suffix: "", header: intent.variantHeader ?? DEFAULT_VARIANT_HEADER, value: variantValue, regex: false },
  ];
  if (intent.pins?.header)
    kinds.push({ suffix: "pin-", header: intent.pins.header, value: (v) => v, regex: false });
  if (intent.pins?.cookie) {
    const cookie = escapeRegex(intent.pins.cookie);
    kinds.push({
      suffix: "pin-cookie-",
      header: "cookie",
      value: (v) => `^(.*;\\s*)?${cookie}=${v}(;.*)?$`,
      regex: true,
    });
  }
  return kinds;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
